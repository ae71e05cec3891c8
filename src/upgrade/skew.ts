import { parseGitVersion } from '../join/version.js';

// What kubeadm's version skew policy allows for an in-place worker upgrade, from the
// version the node runs to the configured one, given the API server's /version.
export type UpgradeVerdict =
  | { kind: 'none'; from: string }
  | { kind: 'patch' | 'minor'; from: string; to: string }
  | { kind: 'refused'; from: string; to: string; reason: string; hint: string };

interface Ver {
  major: number;
  minor: number;
  patch: number;
}

const cmp = (a: Ver, b: Ver): number => a.major - b.major || a.minor - b.minor || a.patch - b.patch;
const show = (v: Ver): string => `v${v.major}.${v.minor}.${v.patch}`;

// Pure. Refusals, in the order an operator fixes them: a downgrade (kubeadm has no
// downgrade path for a joined node), a skipped minor (kubeadm upgrades one minor at a
// time: "Skipping MINOR versions when upgrading is unsupported"), a kubelet newer than
// kube-apiserver (the skew policy: kubelet must not be newer than the API server; the
// control plane is upgraded first).
export function upgradeVerdict(from: string, to: string, apiServer: string | undefined): UpgradeVerdict {
  const f = parseGitVersion(from);
  const t = parseGitVersion(to);
  if (!f || !t) return { kind: 'refused', from, to, reason: `cannot compare the versions ${from} and ${to}`, hint: 'kubernetesVersion must be vMAJOR.MINOR.PATCH' };
  if (cmp(f, t) === 0) return { kind: 'none', from: show(f) };
  const base = { from: show(f), to: show(t) };
  if (cmp(t, f) < 0) {
    return { kind: 'refused', ...base, reason: `kubernetesVersion ${show(t)} is older than the ${show(f)} this node runs: kubeadm does not downgrade a joined node`, hint: `set kubernetesVersion back to ${show(f)}; to run an older version, drain the node, \`kubeadm reset\`, and join it again` };
  }
  if (t.major !== f.major) return { kind: 'refused', ...base, reason: `${show(f)} -> ${show(t)} changes the major version`, hint: 'kubeadm upgrades within one major version' };
  if (t.minor > f.minor + 1) {
    return { kind: 'refused', ...base, reason: `${show(f)} -> ${show(t)} skips v${f.major}.${f.minor + 1}: kubeadm upgrades one minor version at a time`, hint: `set kubernetesVersion to a v${f.major}.${f.minor + 1} release first, let the node upgrade, then to ${show(t)}` };
  }
  const s = apiServer === undefined ? undefined : parseGitVersion(apiServer);
  if (!s) return { kind: 'refused', ...base, reason: `the API server's version ${JSON.stringify(apiServer ?? '')} cannot be read`, hint: 'check that the control plane answers /version' };
  if (cmp(t, s) > 0) {
    return { kind: 'refused', ...base, reason: `kubelet ${show(t)} would be newer than the API server ${show(s)}: the skew policy forbids a kubelet newer than kube-apiserver`, hint: `upgrade the control plane first (\`kubeadm upgrade apply ${show(t)}\` on it), then reload joinagent; or set kubernetesVersion to ${show(s)} or older` };
  }
  return { kind: t.minor === f.minor ? 'patch' : 'minor', ...base };
}

// "1.32.11-1.1", "1.32.11-150500.1.1", "v1.32.11" -> "v1.32.11" (what kubelet --version says).
export function gitVersionOf(packageVersion: string): string | undefined {
  const m = /^(?:\d+:)?v?(\d+\.\d+\.\d+)/.exec(packageVersion.trim());
  return m ? `v${m[1]}` : undefined;
}

export function minorOf(version: string): string {
  return version.replace(/^v/, '').split('.').slice(0, 2).join('.');
}
