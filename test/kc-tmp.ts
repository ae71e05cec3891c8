import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
const run = promisify(execFile);
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startControlPlane } from './fixtures/controlplane.js';
const cp = await startControlPlane({ controllerDelayMs: 50 });
const c = cp.issueClientCert('w1');
const d = mkdtempSync(path.join(os.tmpdir(), 'kc-'));
writeFileSync(path.join(d, 'pem'), c.certPem + c.keyPem);
writeFileSync(path.join(d, 'kubeconfig'), `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from(cp.caPem).toString('base64')}\n    server: ${cp.url}\n  name: default-cluster\ncontexts:\n- context:\n    cluster: default-cluster\n    namespace: default\n    user: default-auth\n  name: default-context\ncurrent-context: default-context\nkind: Config\npreferences: {}\nusers:\n- name: default-auth\n  user:\n    client-certificate: ${d}/pem\n    client-key: ${d}/pem\n`);
await fetch; 
const https = await import('node:https');
await new Promise<void>((res) => { const r = https.request(`${cp.url}/api/v1/nodes`, { method: 'POST', ca: cp.caPem, cert: c.certPem, key: c.keyPem, headers: { 'content-type': 'application/json' } }, (x) => { x.resume(); x.on('end', () => res()); }); r.end(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1', labels: { 'kubernetes.io/hostname': 'w1' } }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }], addresses: [{ type: 'InternalIP', address: '198.18.0.2' }, { type: 'Hostname', address: 'w1' }] } })); });
await new Promise((r) => setTimeout(r, 300));
for (const args of [['get', 'node', 'w1'], ['get', 'node', 'w1', '-o', 'wide'], ['get', 'node', 'w1', '-o', 'json'], ['get', 'nodes'], ['get', 'nodes', '-o', 'json'], ['get', 'csr']]) {
  try { console.log('$ kubectl', args.join(' ')); const o = await run('/tmp/cp-strict-sid/x/usr/bin/kubectl', ['--request-timeout', '5s', '--kubeconfig', path.join(d, 'kubeconfig'), '--cache-dir', path.join(d, 'cache'), ...args]); console.log(o.stdout.slice(0, 1500), o.stderr.slice(0, 500)); }
  catch (e) { const err = e as { stderr: string; stdout: string; code: number }; console.log('rc', err.code, err.stdout.slice(0, 500), err.stderr.slice(0, 1500)); }
}
await cp.close();
