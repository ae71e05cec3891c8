import type { LoadedConfig } from '../../../config/types.js';
import type { DistroFamily, HostFacts } from '../../../host/facts.js';
import { DNF4_VERSIONLOCK_PACKAGE } from './versionlock.js';

export type RepoId = 'kubernetes' | 'docker' | 'distro';

export interface WantedPackage {
  name: string;
  /** Upstream version the package must have: "1.32.11" exactly (any package revision),
   *  "1.32.*" any patch of a minor, undefined any version. */
  version?: string;
  /** Kept from upgrades (apt-mark hold; the rpm repo's exclude= line). */
  hold: boolean;
  repo: RepoId;
}

export const KUBE_PACKAGES = ['kubelet', 'kubeadm', 'kubectl', 'cri-tools'] as const;

// "v1.32.11" -> { minor: "1.32", patch: "1.32.11" }
export function kubeVersion(config: LoadedConfig): { minor: string; patch: string } {
  const patch = config.agent.kubernetesVersion.replace(/^v/, '');
  return { minor: patch.split('.').slice(0, 2).join('.'), patch };
}

// The runtime package the runtime step configures: Docker's containerd.io (the runbook's
// choice, current upstream releases) or the distribution's own containerd.
export function containerdPackage(config: LoadedConfig): string {
  return config.agent.containerd.source === 'docker' ? 'containerd.io' : 'containerd';
}

// Every package joinagent installs, for one transaction. kubelet, kubeadm and kubectl at
// exactly kubernetesVersion: a kubelet newer than the control plane is a version-skew
// violation, an older patch misses fixes the cluster was tested with. cri-tools follows
// its own patch numbers (1.32.0 ships with every Kubernetes 1.32.x), so it is pinned to
// the minor only: "1.32.11" of cri-tools does not exist.
export function wantedPackages(config: LoadedConfig, facts: Pick<HostFacts, 'family'>, opts: { dnf5?: boolean } = {}): WantedPackage[] {
  const { minor, patch } = kubeVersion(config);
  // while an upgrade is under way its step moves the kube packages, in kubeadm's order
  const kube = config.agent.upgrading ? [] : KUBE_PACKAGES;
  const out: WantedPackage[] = kube.map((name) => ({ name, version: name === 'cri-tools' ? `${minor}.*` : patch, hold: true, repo: 'kubernetes' as const }));
  const { source, version } = config.agent.containerd;
  out.push({ name: containerdPackage(config), version, hold: false, repo: source === 'docker' ? 'docker' : 'distro' });
  // Debian's containerd only recommends runc (and we install without recommends).
  if (source === 'distro' && facts.family === 'debian') out.push({ name: 'runc', hold: false, repo: 'distro' });
  // dnf 4's hold (versionlock) is a plugin of its own on RHEL-family hosts; dnf5 has it built in
  if (facts.family === 'rhel' && !opts.dnf5) out.push({ name: DNF4_VERSIONLOCK_PACKAGE, hold: false, repo: 'distro' });
  return out;
}

// Whether a package version satisfies a wanted version (see WantedPackage.version).
// Epochs ("1:") are ignored; after the upstream version a revision or distro suffix
// may follow (-1.1, ~ds1-1, +b1, .el10).
export function versionMatches(actual: string, wanted: string | undefined): boolean {
  if (wanted === undefined) return true;
  const v = actual.replace(/^\d+:/, '');
  if (wanted.endsWith('.*')) return v.startsWith(wanted.slice(0, -1));
  return v === wanted || ['-', '~', '+'].some((sep) => v.startsWith(wanted + sep));
}

// Orders package versions by their numeric and alphabetic runs (enough to pick the
// newest patch among a repository's candidates; "~" sorts first as in dpkg).
export function compareVersions(a: string, b: string): number {
  const split = (s: string): string[] => s.replace(/^\d+:/, '').match(/~|\d+|[A-Za-z]+/g) ?? [];
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === q) continue;
    if (p === '~') return -1;
    if (q === '~') return 1;
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const np = /^\d/.test(p);
    const nq = /^\d/.test(q);
    if (np && nq) return Number(p) - Number(q) || p.localeCompare(q);
    if (np !== nq) return np ? 1 : -1;
    return p < q ? -1 : 1;
  }
  return 0;
}

// The newest candidate version that satisfies the wanted one.
export function pickVersion(candidates: string[], wanted: string | undefined): string | undefined {
  return candidates.filter((c) => versionMatches(c, wanted)).sort(compareVersions).pop();
}

export type { DistroFamily };
