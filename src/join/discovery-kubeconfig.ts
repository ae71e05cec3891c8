import { parse } from 'yaml';
import { parsePemCertificates } from './capin.js';

export { isHttpsUrl } from '../config/formats.js';

// The kubeconfig of kubeadm's file discovery (discovery.file.kubeConfigPath), read with
// kubeadm's rules: the unnamed cluster if there is one, else the current context's
// cluster (kubeconfigutil.GetClusterFromKubeConfig); a CA given as a file is embedded
// (EnsureCertificateAuthorityIsEmbedded); credentials are the current context's user's
// token, username+password or client certificate+key (HasAuthenticationCredentials).
// Without credentials the TLS bootstrap needs discovery.tlsBootstrapToken. The file is
// often the cluster-info ConfigMap's own kubeconfig (one unnamed cluster, no users).
export interface DiscoveryKubeconfig {
  clusterName: string;
  server: string;
  host: string;
  port: number;
  caPem?: string;
  /** Where the CA came from: "certificate-authority-data" or the CA file's path. */
  caSource?: string;
  insecure: boolean;
  auth: { kind: 'token' | 'basic' | 'client-cert' | 'none'; user?: string; token?: string; certPem?: string; keyPem?: string };
}

type Named<T> = { name?: unknown } & T;
interface Raw {
  clusters?: Named<{ cluster?: Record<string, unknown> }>[] | null;
  contexts?: Named<{ context?: { cluster?: unknown; user?: unknown } }>[] | null;
  users?: Named<{ user?: Record<string, unknown> }>[] | null;
  'current-context'?: unknown;
}

export class DiscoveryKubeconfigError extends Error {}

// readFile: files the kubeconfig names (CA, client certificate, key), null when unreadable.
export async function parseDiscoveryKubeconfig(text: string, source: string, readFile: (p: string) => Promise<string | null>): Promise<DiscoveryKubeconfig> {
  const bad = (m: string): never => {
    throw new DiscoveryKubeconfigError(`${source}: ${m}`);
  };
  let raw: Raw;
  try {
    raw = (parse(text) ?? {}) as Raw;
  } catch (e) {
    return bad(`not a kubeconfig (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) bad('not a kubeconfig (expected a mapping with clusters)');
  const clusters = Array.isArray(raw.clusters) ? raw.clusters : [];
  const contexts = Array.isArray(raw.contexts) ? raw.contexts : [];
  const users = Array.isArray(raw.users) ? raw.users : [];
  if (clusters.length === 0) bad('the kubeconfig must have at least one cluster defined (kubeadm)');
  const current = typeof raw['current-context'] === 'string' ? raw['current-context'] : '';
  const ctx = contexts.find((c) => c.name === current)?.context;
  // clientcmd.Validate: a current-context must exist
  if (current && !ctx) bad(`current-context "${current}" names no context`);
  const unnamed = clusters.find((c) => (c.name ?? '') === '');
  const clusterName = unnamed ? '' : String(ctx?.cluster ?? '');
  const cluster = unnamed?.cluster ?? clusters.find((c) => c.name === ctx?.cluster)?.cluster ?? bad(ctx ? `the current context's cluster "${clusterName}" is not defined` : 'no unnamed cluster and no current-context naming a cluster: kubeadm cannot tell which cluster to use');
  const str = (o: Record<string, unknown> | undefined, k: string): string | undefined => (typeof o?.[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  const server = str(cluster, 'server') ?? bad(`cluster "${clusterName}" has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return bad(`cluster "${clusterName}" server "${server}" is not a URL`);
  }
  if (url.protocol !== 'https:') bad(`cluster "${clusterName}" server "${server}" is not https:// (the API server speaks TLS)`);
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  let caPem: string | undefined;
  let caSource: string | undefined;
  const caData = str(cluster, 'certificate-authority-data');
  const caFile = str(cluster, 'certificate-authority');
  if (caData) {
    caPem = Buffer.from(caData, 'base64').toString('utf8');
    caSource = 'certificate-authority-data';
  } else if (caFile) {
    caPem = (await readFile(caFile)) ?? bad(`cannot read certificate-authority ${caFile}`);
    caSource = caFile;
  }
  if (caPem !== undefined) {
    let n = 0;
    try {
      n = parsePemCertificates(caPem).length;
    } catch (e) {
      bad(`${caSource}: not a readable certificate (${(e as Error).message})`);
    }
    if (n === 0) bad(`${caSource} holds no PEM certificate`);
  }
  if (insecure && caPem !== undefined) bad('insecure-skip-tls-verify and a certificate authority are both set: clientcmd refuses the combination');
  if (!insecure && caPem === undefined) bad(`cluster "${clusterName}" has no certificate-authority(-data): the API server could not be authenticated (copy the CA from the cluster-info ConfigMap)`);

  const userName = typeof ctx?.user === 'string' ? ctx.user : undefined;
  const user = userName ? users.find((u) => u.name === userName)?.user : undefined;
  const auth: DiscoveryKubeconfig['auth'] = { kind: 'none', user: userName };
  if (user) {
    const certPem = str(user, 'client-certificate-data') ? Buffer.from(str(user, 'client-certificate-data')!, 'base64').toString('utf8') : str(user, 'client-certificate') ? ((await readFile(str(user, 'client-certificate')!)) ?? bad(`cannot read client-certificate ${str(user, 'client-certificate')}`)) : undefined;
    const keyPem = str(user, 'client-key-data') ? Buffer.from(str(user, 'client-key-data')!, 'base64').toString('utf8') : str(user, 'client-key') ? ((await readFile(str(user, 'client-key')!)) ?? bad(`cannot read client-key ${str(user, 'client-key')}`)) : undefined;
    if (str(user, 'token')) Object.assign(auth, { kind: 'token', token: str(user, 'token') });
    else if (str(user, 'username') && str(user, 'password')) auth.kind = 'basic';
    else if (certPem && keyPem) Object.assign(auth, { kind: 'client-cert', certPem, keyPem });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { clusterName, server, host, port: Number(url.port || 443), caPem, caSource, insecure, auth };
}
