import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { NetError } from '../join/https.js';
import { kubeletGet as kubeletGetAny } from '../join/kubelet-api.js';
import { nodeVerdict } from '../join/nodestatus.js';

// The upgrade asks the cluster two things, as the node itself, with the kubelet's
// credentials from kubelet.conf (the identity kubeadm upgrade node uses on a worker):
// the API server's /version, and the Node's status after the kubelet restarted.
async function kubeletGet(files: Files, urlPath: string, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  const r = await kubeletGetAny(files, urlPath, signal);
  if (r.status === 401 || r.status === 403) throw new NetError('http', `the API server refused the kubelet's credentials from ${paths.kubeletConf} (${r.status}) for ${urlPath}`);
  return r;
}

// gitVersion of the API server ("v1.33.2"), as discovery reads it.
export async function apiServerVersion(files: Files, signal?: AbortSignal): Promise<string> {
  const r = await kubeletGet(files, '/version', signal);
  const v = r.status === 200 ? (JSON.parse(r.body) as { gitVersion?: string }).gitVersion : undefined;
  if (!v) throw new NetError('http', `the API server's /version answered ${r.status} without a gitVersion`);
  return v;
}

export interface NodeKubelet {
  found: boolean;
  ready: boolean;
  kubeletVersion?: string;
  reason?: string;
}

// What the Node object says about this node's kubelet: status.nodeInfo.kubeletVersion
// (the kubelet reports its own version there) and the Ready condition.
export async function nodeKubelet(files: Files, name: string, signal?: AbortSignal): Promise<NodeKubelet> {
  const r = await kubeletGet(files, `/api/v1/nodes/${encodeURIComponent(name)}`, signal);
  if (r.status === 404) return { found: false, ready: false, reason: `Node "${name}" is not registered` };
  if (r.status !== 200) throw new NetError('http', `reading Node "${name}" answered ${r.status}`);
  const n = JSON.parse(r.body) as { status?: { nodeInfo?: { kubeletVersion?: string } } };
  const v = nodeVerdict(name, n as Parameters<typeof nodeVerdict>[1]);
  return { found: true, ready: v.ready, kubeletVersion: n.status?.nodeInfo?.kubeletVersion, reason: v.reason };
}
