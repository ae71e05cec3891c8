import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { NetError } from './https.js';
import { kubeletGet } from './kubelet-api.js';

// kube-proxy's pod on this node, as the runbook checks it after a join ("kube-proxy ...
// containers running"): read with the kubelet's own credentials, which may list the pods
// bound to this node (the node authorizer's rule), by fieldSelector spec.nodeName.
export interface PodView {
  name: string;
  phase: string;
  ready: boolean;
  image?: string;
  restarts: number;
  /** the container's waiting reason (ContainerCreating, CrashLoopBackOff, ErrImagePull...) */
  waiting?: string;
  waitingMessage?: string;
}

export interface KubeProxyStatus {
  found: boolean;
  running: boolean;
  pod?: PodView;
  /** One line for /status and the step message. */
  summary: string;
}

interface PodJson {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { containers?: { name?: string; image?: string }[] };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name?: string; ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string; message?: string }; running?: unknown } }[];
  };
}

export async function readKubeProxyPod(files: Files, node: string, signal?: AbortSignal): Promise<KubeProxyStatus> {
  const q = `fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}&labelSelector=${encodeURIComponent('k8s-app=kube-proxy')}`;
  const r = await kubeletGet(files, `/api/v1/namespaces/kube-system/pods?${q}`, signal);
  if (r.status === 401 || r.status === 403) throw new NetError('http', `the API server refused to list this node's pods with the kubelet's credentials from ${paths.kubeletConf} (${r.status})`);
  if (r.status !== 200) throw new NetError('http', `listing the pods bound to Node "${node}" answered ${r.status}`);
  return kubeProxyVerdict(node, (JSON.parse(r.body) as { items?: PodJson[] }).items ?? []);
}

// Pure: the pods bound to this node -> kube-proxy's state.
export function kubeProxyVerdict(node: string, items: PodJson[]): KubeProxyStatus {
  const p = items.find((i) => i.metadata?.labels?.['k8s-app'] === 'kube-proxy');
  if (!p) return { found: false, running: false, summary: `no kube-proxy pod is bound to Node "${node}" yet` };
  const c = p.status?.containerStatuses?.find((s) => s.name === 'kube-proxy') ?? p.status?.containerStatuses?.[0];
  const ready = p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
  const pod: PodView = {
    name: p.metadata?.name ?? 'kube-proxy',
    phase: p.status?.phase ?? 'Pending',
    ready,
    image: p.spec?.containers?.find((x) => x.name === 'kube-proxy')?.image ?? p.spec?.containers?.[0]?.image,
    restarts: c?.restartCount ?? 0,
    waiting: c?.state?.waiting?.reason,
    waitingMessage: c?.state?.waiting?.message,
  };
  const running = pod.phase === 'Running' && ready && c?.state?.running !== undefined;
  if (running) return { found: true, running, pod, summary: `${pod.name} Running` };
  const why = [pod.phase, pod.waiting, pod.restarts ? `restarted ${pod.restarts} times` : undefined].filter(Boolean).join(', ');
  return { found: true, running, pod, summary: `${pod.name} is not running: ${why}${pod.waitingMessage ? ` (${pod.waitingMessage})` : ''}` };
}
