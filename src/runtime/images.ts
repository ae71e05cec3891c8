import type { AgentConfig } from '../config/types.js';

// The pause tag kubeadm itself uses per Kubernetes minor (cmd/kubeadm/app/constants
// PauseVersion), so the sandbox image containerd is told to use is the one kubeadm's
// preflight expects and the one this agent pulls. Sources checked for each entry:
//   1.26-1.30 -> 3.9:    kubeadm config images list for every 1.26-1.30 patch (minikube's
//                        generated KubeadmImages table) and v1.26.0 constants.go
//   1.31, 1.32 -> 3.10:  kubernetes/kubernetes constants.go on those release branches
//                        (PauseVersion = "3.10", SupportedEtcdVersion up to 31 / 32)
//   1.33 -> 3.10:        kubeadm v1.33.4 `kubeadm config images list` (kubernetes/kubeadm#3232)
//   1.34 -> 3.10.1:      kubernetes/kubernetes#130713 (bump to 3.10.1 for 1.34)
//   1.35 -> 3.10.1:      constants.go of v1.35 (PauseVersion = "3.10.1"); 1.36 moved to 3.10.2
// A minor missing here is refused rather than guessed: add it after checking kubeadm.
export const PAUSE_VERSIONS: Readonly<Record<number, string>> = {
  26: '3.9',
  27: '3.9',
  28: '3.9',
  29: '3.9',
  30: '3.9',
  31: '3.10',
  32: '3.10',
  33: '3.10',
  34: '3.10.1',
  35: '3.10.1',
};

export class UnknownKubernetesMinor extends Error {
  constructor(readonly version: string) {
    const known = Object.keys(PAUSE_VERSIONS).map(Number);
    super(`kubernetesVersion ${version}: joinagent does not know which pause image kubeadm uses for this minor (known: v1.${Math.min(...known)} to v1.${Math.max(...known)})`);
    this.name = 'UnknownKubernetesMinor';
  }
}

// "v1.32.11" -> "3.10"; throws UnknownKubernetesMinor for a minor not in the table.
export function pauseImageFor(version: string): string {
  const m = /^v?1\.(\d+)\.\d+/.exec(version);
  const tag = m ? PAUSE_VERSIONS[Number(m[1])] : undefined;
  if (!tag) throw new UnknownKubernetesMinor(version);
  return tag;
}

export interface WorkerImages {
  kubeProxy: string;
  pause: string;
}

// Exactly the two images a worker runs (kube-proxy and the pod sandbox); never the
// control plane's images, which `kubeadm config images pull` would fetch too.
export function workerImages(config: Pick<AgentConfig, 'kubernetesVersion' | 'images'>): WorkerImages {
  const repo = config.images.repository.replace(/\/+$/, '');
  return {
    kubeProxy: `${repo}/kube-proxy:${config.kubernetesVersion}`,
    pause: `${repo}/pause:${pauseImageFor(config.kubernetesVersion)}`,
  };
}

// The registry host of an image reference ("registry.k8s.io/pause:3.10" -> "registry.k8s.io";
// Docker Hub short names -> "docker.io"), to find the mirrors that apply to it.
export function registryHost(ref: string): string {
  const first = ref.split('/')[0];
  if (!ref.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) return 'docker.io';
  return first;
}
