import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { ControlPlane } from '../../fixtures/controlplane.js';

// A minimal API client for the control-plane tests: one request with a client
// certificate, a bearer token or nothing, the status and the parsed body.
export interface Answer {
  code: number;
  body: Record<string, unknown>;
}

export interface Creds {
  cert?: { certPem: string; keyPem: string };
  token?: string;
}

export function call(cp: ControlPlane, method: string, p: string, creds: Creds = {}, body?: unknown, contentType = 'application/json', accept = 'application/json'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept };
    if (creds.token) headers.authorization = `Bearer ${creds.token}`;
    if (body !== undefined) headers['content-type'] = contentType;
    const req = https.request(`${cp.url}${p}`, { method, ca: cp.caPem, cert: creds.cert?.certPem, key: creds.cert?.keyPem, headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = { text };
        }
        resolve({ code: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

export interface CsrSpec {
  cn: string;
  o?: string[];
  sans?: string;
  key?: 'ec' | 'rsa';
}

// A PEM CSR made with the openssl CLI (as a kubelet would make one, or deliberately not).
export function makeCsr(s: CsrSpec): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-csr-'));
  try {
    const subj = `${(s.o ?? []).map((o) => `/O=${o}`).join('')}/CN=${s.cn}`;
    const keyArgs = s.key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
    execFileSync('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', path.join(dir, 'k'), '-subj', subj, ...(s.sans ? ['-addext', `subjectAltName=${s.sans}`] : []), '-out', path.join(dir, 'r')], { stdio: 'ignore' });
    return readFileSync(path.join(dir, 'r'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function csrBody(pem: string, signerName = 'kubernetes.io/kube-apiserver-client-kubelet', usages = ['digital signature', 'client auth']): unknown {
  return { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { generateName: 'csr-' }, spec: { request: Buffer.from(pem).toString('base64'), signerName, usages } };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
