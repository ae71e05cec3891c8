import { minorOf } from './skew.js';

// The worker upgrade as kubeadm's "Upgrading Linux nodes" page orders it, plus what makes
// it safe to stop anywhere: the images are in the runtime before anything stops, and
// every action can run again (an install of the installed version, a second `kubeadm
// upgrade node`, a restart) so a run that was killed resumes at the first action not
// recorded as done.
export type ActionId = 'repository' | 'images' | 'kubeadm' | 'kubeadm-upgrade-node' | 'drain' | 'kubelet' | 'restart-kubelet' | 'verify' | 'uncordon';

export interface UpgradeAction {
  id: ActionId;
  description: string;
}

export interface UpgradePlanInput {
  from: string;
  to: string;
  nodeName: string;
  /** the package repository of the new minor (a minor upgrade only) */
  repoUrl?: string;
  images: { kubeProxy: string; pause: string };
  /** drain.kubeconfig is set: cordon and drain before the kubelet stops, uncordon after */
  drain?: { kubeconfig: string; timeoutMs: number };
  hold: 'apt-mark hold' | 'dnf versionlock';
}

// Pure: the ordered actions of one upgrade, from -> to.
export function upgradeActions(p: UpgradePlanInput): UpgradeAction[] {
  const minor = minorOf(p.from) !== minorOf(p.to);
  const v = p.to.replace(/^v/, '');
  const out: UpgradeAction[] = [];
  if (minor) out.push({ id: 'repository', description: `switch the Kubernetes package repository to v${minorOf(p.to)} (${p.repoUrl ?? 'pkgs.k8s.io'}) and re-read it` });
  out.push({ id: 'images', description: `pre-pull ${p.images.kubeProxy} and ${p.images.pause} through the CRI (before anything stops)` });
  out.push({ id: 'kubeadm', description: `install kubeadm ${v} (${p.hold})` });
  out.push({ id: 'kubeadm-upgrade-node', description: 'kubeadm upgrade node (backs up and rewrites /var/lib/kubelet/config.yaml from the cluster\'s kubelet-config)' });
  if (p.drain) out.push({ id: 'drain', description: `kubectl drain ${p.nodeName} --ignore-daemonsets --delete-emptydir-data --timeout=${Math.round(p.drain.timeoutMs / 1000)}s (kubeconfig ${p.drain.kubeconfig})` });
  out.push({ id: 'kubelet', description: `install kubelet and kubectl ${v}${minor ? `, cri-tools ${minorOf(p.to)}.*` : ''} (${p.hold})` });
  out.push({ id: 'restart-kubelet', description: 'systemctl daemon-reload; systemctl restart kubelet; wait for 127.0.0.1:10248/healthz' });
  out.push({ id: 'verify', description: `prove it from the node: Node "${p.nodeName}" reports kubelet ${p.to} and Ready` });
  if (p.drain) out.push({ id: 'uncordon', description: `kubectl uncordon ${p.nodeName}` });
  return out;
}

// The actions still to do after a killed or failed run (in order; done ones dropped).
export function remainingActions(all: UpgradeAction[], done: readonly ActionId[]): UpgradeAction[] {
  return all.filter((a) => !done.includes(a.id));
}
