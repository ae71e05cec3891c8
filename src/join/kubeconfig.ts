import { parse } from 'yaml';

// The parts of a kubeconfig joinagent reads: the cluster-info kubeconfig (server + CA)
// and kubelet.conf (plus the kubelet's client credentials, inline or as file paths,
// which kubeadm's TLS bootstrap leaves pointing at kubelet-client-current.pem).
export interface KubeconfigView {
  server: string;
  caPem?: string;
  caFile?: string;
  clientCertPem?: string;
  clientCertFile?: string;
  clientKeyPem?: string;
  clientKeyFile?: string;
}

type Named<T> = { name?: string } & T;
interface Raw {
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
  'current-context'?: string;
}

// Follows current-context when there is one (kubelet.conf), else takes the first
// cluster (cluster-info has no contexts).
export function parseKubeconfig(text: string, source: string): KubeconfigView {
  let raw: Raw;
  try {
    raw = (parse(text) ?? {}) as Raw;
  } catch (e) {
    throw new Error(`${source}: not a kubeconfig (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  const ctx = raw.contexts?.find((c) => c.name === raw['current-context'])?.context;
  const cluster = (raw.clusters?.find((c) => ctx && c.name === ctx.cluster) ?? raw.clusters?.[0])?.cluster;
  const user = (raw.users?.find((u) => ctx && u.name === ctx.user) ?? raw.users?.[0])?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`${source}: kubeconfig has no cluster with a server`);
  const str = (o: Record<string, unknown>, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const b64 = (v: string | undefined): string | undefined => (v ? Buffer.from(v, 'base64').toString('utf8') : undefined);
  return {
    server: cluster.server,
    caPem: b64(str(cluster, 'certificate-authority-data')),
    caFile: str(cluster, 'certificate-authority'),
    clientCertPem: b64(str(user, 'client-certificate-data')),
    clientCertFile: str(user, 'client-certificate'),
    clientKeyPem: b64(str(user, 'client-key-data')),
    clientKeyFile: str(user, 'client-key'),
  };
}

// "https://192.168.10.100:6443" -> host and port (IPv6 in brackets).
export function serverHostPort(server: string): { host: string; port: number } {
  const u = new URL(server);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443) };
}
