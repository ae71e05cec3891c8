import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { NetError } from './https.js';
import { kubeletGet } from './kubelet-api.js';

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

// Reads this node's Node object with the kubelet's own credentials (kubelet-api.ts).
export async function readNodeStatus(files: Files, name: string, signal?: AbortSignal): Promise<NodeStatus> {
  const r = await kubeletGet(files, `/api/v1/nodes/${encodeURIComponent(name)}`, signal);
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
