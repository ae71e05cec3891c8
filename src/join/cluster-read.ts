import { parse } from 'yaml';
import { splitHostPort } from '../config/formats.js';
import { NetError } from './https.js';
import { requestHonouringRetryAfter } from './retry-after.js';

// What a joining node may read of the cluster with its bootstrap token's own rights
// (kubeadm's bootstrap RBAC for system:bootstrappers:kubeadm:default-node-token: get
// configmaps kubeadm-config and kubelet-config in kube-system, get nodes; nothing else),
// read before anything on the host changes so that a join that would fail, or a node
// that would not work, is refused first (join/preflight-checks.ts judges it).
export interface ClusterKubelet {
  cgroupDriver?: string;
  failSwapOn?: boolean;
  serverTLSBootstrap?: boolean;
  resolvConf?: string;
}

export interface ExistingNode {
  name: string;
  ready: boolean;
  /** The Ready condition's lastHeartbeatTime (when its kubelet last reported). */
  lastHeartbeat?: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  internalIPs: string[];
  /** status.nodeInfo.machineID: the /etc/machine-id of the machine whose kubelet reported. */
  machineID?: string;
}

export interface ClusterView {
  /** kube-system/kubeadm-config ClusterConfiguration.kubernetesVersion */
  kubeadmVersion?: string;
  /** The cluster's KubeletConfiguration (kube-system/kubelet-config, key kubelet). */
  kubelet?: ClusterKubelet;
  /** Why a ConfigMap could not be read (absent on a cluster kubeadm did not make, or RBAC). */
  notes: string[];
  /** null: no Node of this name; undefined: not readable. */
  node?: ExistingNode | null;
}

export interface ClusterReadInput {
  /** "host:port" or "[v6]:port" */
  apiServer: string;
  /** The cluster CA discovery trusts; undefined = unverified (unsafeSkipCAVerification). */
  caPem?: string;
  token: string;
  nodeName: string;
  signal?: AbortSignal;
}

/** The API server refused the token itself (401): unknown, expired or deleted. */
export class TokenRefused extends Error {
  constructor(readonly status: number) {
    super(`the API server refused the bootstrap token (${status} Unauthorized)`);
    this.name = 'TokenRefused';
  }
}

export async function readCluster(i: ClusterReadInput): Promise<ClusterView> {
  const get = getter(i);
  const view: ClusterView = { notes: [] };
  const adm = await get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
  if (adm.status === 200) {
    const cc = parseData(adm.body, 'ClusterConfiguration') as { kubernetesVersion?: string } | undefined;
    view.kubeadmVersion = cc?.kubernetesVersion;
  } else view.notes.push(note('kubeadm-config', adm.status));
  const kc = await get('/api/v1/namespaces/kube-system/configmaps/kubelet-config');
  if (kc.status === 200) {
    const k = (parseData(kc.body, 'kubelet') ?? {}) as Record<string, unknown>;
    view.kubelet = {
      cgroupDriver: typeof k.cgroupDriver === 'string' ? k.cgroupDriver : undefined,
      failSwapOn: typeof k.failSwapOn === 'boolean' ? k.failSwapOn : undefined,
      serverTLSBootstrap: typeof k.serverTLSBootstrap === 'boolean' ? k.serverTLSBootstrap : undefined,
      resolvConf: typeof k.resolvConf === 'string' ? k.resolvConf : undefined,
    };
  } else view.notes.push(note('kubelet-config', kc.status));
  view.node = await readNode(get, i.nodeName);
  return view;
}

// One authenticated GET with the token; 401 is the token's own refusal and ends the reads.
export async function tokenAccepted(i: ClusterReadInput): Promise<boolean> {
  try {
    await readNode(getter(i), i.nodeName);
    return true;
  } catch (e) {
    if (e instanceof TokenRefused) return false;
    throw e;
  }
}

type Get = (path: string) => Promise<{ status: number; body: string }>;

function getter(i: ClusterReadInput): Get {
  const hp = splitHostPort(i.apiServer);
  if (!hp) throw new NetError('http', `API server "${i.apiServer}" is not host:port`);
  return async (path) => {
    const r = await requestHonouringRetryAfter({ host: hp.host, port: hp.port, path, ca: i.caPem, headers: { authorization: `Bearer ${i.token}` }, signal: i.signal, maxBodyBytes: 4 << 20 }, { signal: i.signal });
    if (r.status === 401) throw new TokenRefused(r.status);
    return r;
  };
}

async function readNode(get: Get, name: string): Promise<ExistingNode | null | undefined> {
  const r = await get(`/api/v1/nodes/${encodeURIComponent(name)}`);
  if (r.status === 404) return null;
  if (r.status !== 200) return undefined;
  const n = JSON.parse(r.body) as {
    metadata?: { labels?: Record<string, string> };
    spec?: { taints?: ExistingNode['taints'] };
    status?: { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[]; addresses?: { type: string; address: string }[]; nodeInfo?: { machineID?: string } };
  };
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name,
    ready: ready?.status === 'True',
    lastHeartbeat: ready?.lastHeartbeatTime,
    labels: n.metadata?.labels ?? {},
    taints: n.spec?.taints ?? [],
    internalIPs: (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
    machineID: n.status?.nodeInfo?.machineID || undefined,
  };
}

function parseData(body: string, key: string): unknown {
  try {
    const text = (JSON.parse(body) as { data?: Record<string, string> }).data?.[key];
    return text === undefined ? undefined : parse(text);
  } catch {
    return undefined;
  }
}

function note(name: string, status: number): string {
  if (status === 404) return `kube-system/${name} does not exist (a cluster not set up by kubeadm?): not compared`;
  if (status === 403) return `the bootstrap token may not read kube-system/${name} (403): its group is not system:bootstrappers:kubeadm:default-node-token, or kubeadm's RBAC was changed; not compared`;
  return `reading kube-system/${name} answered ${status}: not compared`;
}
