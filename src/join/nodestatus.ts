import path from 'node:path';
import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { NetError } from './https.js';
import { requestHonouringRetryAfter } from './retry-after.js';
import { parseKubeconfig, serverHostPort } from './kubeconfig.js';

export interface NodeStatus {
  name: string;
  found: boolean;
  ready: boolean;
  podCIDR?: string;
  /** Why not Ready (NetworkUnavailable, or the Ready condition's reason). */
  reason?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

interface NodeJson {
  spec?: { podCIDR?: string };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

// Reads this node's Node object as the kubelet itself would: the server, CA and client
// certificate come from kubelet.conf (inline data or file paths), so it proves the
// kubelet's credentials work, not just that a file exists.
export async function readNodeStatus(files: Files, name: string, signal?: AbortSignal): Promise<NodeStatus> {
  const text = await files.read(paths.kubeletConf);
  if (text === null) throw new Error(`${paths.kubeletConf} does not exist: the node is not joined`);
  const kc = parseKubeconfig(text, paths.kubeletConf);
  const read = async (data: string | undefined, file: string | undefined, what: string): Promise<string> => {
    if (data) return data;
    if (!file) throw new Error(`${paths.kubeletConf} has no ${what}`);
    // a relative path in a kubeconfig is relative to the kubeconfig's own directory (client-go)
    const v = await files.read(path.posix.resolve(path.posix.dirname(paths.kubeletConf), file));
    if (v === null) throw new Error(`${paths.kubeletConf} names ${file} as ${what}, but it does not exist`);
    return v;
  };
  const ca = await read(kc.caPem, kc.caFile ?? paths.kubeCaCert, 'CA certificate');
  const cert = await read(kc.clientCertPem, kc.clientCertFile, 'client certificate');
  const key = await read(kc.clientKeyPem, kc.clientKeyFile, 'client key');
  const { host, port } = serverHostPort(kc.server);
  // a Node object with a long image list runs to a few hundred KiB
  const r = await requestHonouringRetryAfter({ host, port, path: `/api/v1/nodes/${encodeURIComponent(name)}`, ca, cert, key, signal, maxBodyBytes: 4 << 20 }, { signal });
  if (r.status === 404) return { name, found: false, ready: false, reason: `Node "${name}" is not registered yet` };
  if (r.status === 401 || r.status === 403) throw new NetError('http', `the API server refused the kubelet's credentials from ${paths.kubeletConf} (${r.status})`);
  if (r.status === 429) throw new NetError('http', `the API server is overloaded: reading Node "${name}" answered 429 TooManyRequests ${r.retries + 1} times, each time after the Retry-After it asked for`);
  if (r.status !== 200) throw new NetError('http', `reading Node "${name}" answered ${r.status}`);
  const json = JSON.parse(r.body) as NodeJson;
  return { ...nodeVerdict(name, json), conditions: json.status?.conditions ?? [] };
}

// Pure: Ready condition and podCIDR -> what /status shows.
export function nodeVerdict(name: string, n: NodeJson): NodeStatus {
  const conds = n.status?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  const netDown = conds.find((c) => c.type === 'NetworkUnavailable' && c.status === 'True');
  const isReady = ready?.status === 'True';
  const reason = isReady ? undefined : netDown ? 'NetworkUnavailable' : ready ? `${ready.reason ?? 'NotReady'}${ready.message ? `: ${ready.message}` : ''}` : 'no Ready condition yet';
  return { name, found: true, ready: isReady, podCIDR: n.spec?.podCIDR, reason };
}
