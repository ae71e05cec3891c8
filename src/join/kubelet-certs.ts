import { X509Certificate } from 'node:crypto';
import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';

// The kubelet's certificates after the join, as a fleet tool needs to see them: the client
// certificate it authenticates with (kubelet-client-current.pem, a symlink the kubelet
// moves to a new dated file at each rotation) and, with serverTLSBootstrap, the serving
// certificate (kubelet-server-current.pem) that exists only once an administrator
// approved its CSR.
export const SERVING_CERT = '/var/lib/kubelet/pki/kubelet-server-current.pem';

export interface KubeletCertFacts {
  clientNotBefore?: string;
  clientNotAfter?: string;
  clientSubject?: string;
  /** kubelet-client-YYYY-MM-DD-HH-MM-SS.pem: the file the last rotation wrote. */
  clientFile?: string;
  servingNotAfter?: string;
  servingIPs?: string[];
}

export async function inspectKubeletCerts(files: Files): Promise<KubeletCertFacts> {
  const out: KubeletCertFacts = {};
  const client = certOf(await files.read(paths.kubeletClientCert));
  if (client) {
    out.clientNotBefore = iso(client.validFrom);
    out.clientNotAfter = iso(client.validTo);
    out.clientSubject = client.subject.replace(/\n/g, ', ');
    out.clientFile = (await files.readlink(paths.kubeletClientCert).catch(() => null)) ?? undefined;
  }
  const serving = certOf(await files.read(SERVING_CERT));
  if (serving) {
    out.servingNotAfter = iso(serving.validTo);
    out.servingIPs = (serving.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11));
  }
  return out;
}

export interface CertFinding {
  level: 'error' | 'warn';
  message: string;
  hint: string;
}

// Pure: what is wrong with the kubelet's certificates, each with the command to run.
export function kubeletCertFindings(c: KubeletCertFacts, o: { now: Date; nodeName: string; nodeIPs: string[]; serverTLSBootstrap?: boolean }): CertFinding[] {
  const out: CertFinding[] = [];
  if (c.clientNotAfter) {
    const left = Date.parse(c.clientNotAfter) - o.now.getTime();
    const life = Date.parse(c.clientNotAfter) - Date.parse(c.clientNotBefore ?? c.clientNotAfter);
    if (left <= 0) out.push({ level: 'error', message: `the kubelet's client certificate expired at ${c.clientNotAfter}: the kubelet can no longer reach the API server (it was off when it should have rotated)`, hint: 'put a new bootstrap token in the token file: joinagent re-bootstraps the kubelet with it (`kubeadm token create` on the control plane)' });
    else if (left < life * 0.1) out.push({ level: 'warn', message: `the kubelet's client certificate expires at ${c.clientNotAfter} and has not been rotated`, hint: 'check rotateCertificates in /var/lib/kubelet/config.yaml and that the kubelet reaches the API server (`journalctl -u kubelet | grep -i certificate`)' });
  }
  if (o.serverTLSBootstrap && !c.servingNotAfter) {
    out.push({ level: 'warn', message: 'serverTLSBootstrap: the kubelet\'s serving certificate has not been issued: its CSR is pending (kubectl logs/exec and metrics-server fail against this node until then)', hint: `on the control plane: \`kubectl get csr --field-selector spec.signerName=kubernetes.io/kubelet-serving | grep system:node:${o.nodeName}\`, then \`kubectl certificate approve <name>\`` });
  }
  if (c.servingIPs && o.nodeIPs.length) {
    const missing = o.nodeIPs.filter((ip) => !c.servingIPs!.includes(ip));
    if (missing.length) out.push({ level: 'warn', message: `the kubelet's serving certificate has IP SANs ${c.servingIPs.join(', ') || '(none)'}, not the node IP ${missing.join(', ')}: clients that verify it (metrics-server) refuse the connection`, hint: `delete ${SERVING_CERT} and restart the kubelet so it asks again with --node-ip set (joinagent sets it: nodeIP)` });
  }
  return out;
}

function certOf(pem: string | null): X509Certificate | undefined {
  const block = pem ? /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0] : undefined;
  if (!block) return undefined;
  try {
    return new X509Certificate(block);
  } catch {
    return undefined;
  }
}

const iso = (d: string): string => new Date(d).toISOString().replace(/\.\d+Z$/, 'Z');
