import type { ClusterView, ExistingNode } from './cluster-read.js';
import type { ResolvVerdict } from './resolv-conf.js';
import { parseGitVersion, versionSkew } from './version.js';

// Pure verdicts on what the cluster says before this node joins it: each finding is one
// line with the next action. Errors stop the run before the host changes.
export interface Finding {
  level: 'error' | 'warn' | 'info';
  check: 'version' | 'cgroup-driver' | 'swap' | 'node' | 'serving-cert' | 'resolv-conf';
  message: string;
  hint?: string;
}

export interface PreflightFacts {
  /** config kubernetesVersion: the kubelet and kubeadm joinagent installs */
  kubernetesVersion: string;
  /** /version gitVersion of the API server */
  serverVersion?: string;
  cluster: ClusterView;
  nodeName: string;
  /** config kubelet.cgroupDriver (also what containerd's runc is set to; systemd if unset) */
  kubeletCgroupDriver?: 'systemd' | 'cgroupfs';
  kubeletFailSwapOn?: boolean;
  swapMode: 'disable' | 'leave';
  swapActive: boolean;
  existingNode: 'refuse' | 'adopt';
  /** This machine's addresses and /etc/machine-id: a Node reporting either is this machine's own. */
  localIPs?: string[];
  machineId?: string;
  /** The kubelet's resolvConf judged against this host (join/resolv-conf.ts). */
  resolv?: ResolvVerdict;
  /** Where joinagent's resolvConf patch goes. */
  resolvPatch?: string;
}

export function preflightFindings(f: PreflightFacts): Finding[] {
  return [...versionFindings(f), ...cgroupFindings(f), ...swapFindings(f), ...nodeFindings(f), ...servingFindings(f), ...resolvFindings(f)];
}

// The skew policy (a kubelet never newer than the API server, at most 3 minors older) and
// kubeadm's: kubeadm of one minor joins a control plane of the same minor (kubeadm and the
// kubelet come from the same packages here), so a different minor is refused too.
function versionFindings(f: PreflightFacts): Finding[] {
  const out: Finding[] = [];
  const cluster = f.cluster.kubeadmVersion ?? f.serverVersion;
  const fix = (v: string): string => `set kubernetesVersion: ${v.replace(/[-+].*$/, '')} (or kubernetesVersion: cluster to take it from the control plane)`;
  if (f.serverVersion) {
    const skew = versionSkew(f.kubernetesVersion, f.serverVersion);
    if (skew.level === 'fail') return [{ level: 'error', check: 'version', message: skew.message!, hint: fix(f.serverVersion) }];
  }
  if (!cluster) return out;
  const mine = parseGitVersion(f.kubernetesVersion);
  const theirs = parseGitVersion(cluster);
  if (!mine || !theirs) return out;
  const from = f.cluster.kubeadmVersion ? 'the cluster\'s kubeadm-config' : 'the API server';
  if (mine.major !== theirs.major || mine.minor !== theirs.minor) {
    out.push({ level: 'error', check: 'version', message: `kubernetesVersion ${f.kubernetesVersion} differs from the cluster's ${cluster} (${from}): kubeadm v${mine.major}.${mine.minor} joining a v${theirs.major}.${theirs.minor} control plane is not supported`, hint: fix(cluster) });
  } else if (mine.patch !== theirs.patch) {
    out.push({ level: 'warn', check: 'version', message: `kubernetesVersion ${f.kubernetesVersion} differs from the cluster's ${cluster} (${from}) in the patch release: supported, but the node will not match the control plane`, hint: fix(cluster) });
  }
  if (f.cluster.kubeadmVersion && f.serverVersion && f.cluster.kubeadmVersion.replace(/[-+].*$/, '') !== f.serverVersion.replace(/[-+].*$/, '')) {
    out.push({ level: 'info', check: 'version', message: `the API server runs ${f.serverVersion}, the cluster's kubeadm-config says ${f.cluster.kubeadmVersion}: an upgrade in progress?` });
  }
  return out;
}

// containerd's runc is set from kubelet.cgroupDriver (systemd unless set), while kubeadm
// join writes the kubelet's driver from the cluster's kubelet-config unless a patch (our
// kubelet.cgroupDriver) overrides it: the two disagree exactly when the config leaves it
// unset and the cluster says cgroupfs.
function cgroupFindings(f: PreflightFacts): Finding[] {
  const cluster = f.cluster.kubelet ? (f.cluster.kubelet.cgroupDriver ?? 'systemd') : undefined;
  if (!cluster) return [];
  if (f.kubeletCgroupDriver === undefined && cluster !== 'systemd') {
    return [{ level: 'error', check: 'cgroup-driver', message: `the cluster's kubelet-config says cgroupDriver: ${cluster}, which the kubelet will use after the join, but containerd's runc would use the systemd driver (kubelet.cgroupDriver is not set, so joinagent sets SystemdCgroup = true): pods would fail to start`, hint: `set kubelet.cgroupDriver: ${cluster} (containerd's runc then matches the cluster), or kubelet.cgroupDriver: systemd to run this node with systemd against the cluster's setting` }];
  }
  if (f.kubeletCgroupDriver !== undefined && f.kubeletCgroupDriver !== cluster) {
    return [{ level: 'warn', check: 'cgroup-driver', message: `kubelet.cgroupDriver: ${f.kubeletCgroupDriver} overrides the cluster's kubelet-config (cgroupDriver: ${cluster}) on this node: containerd and the kubelet agree, but this node differs from the others` }];
  }
  return [];
}

// The kubelet exits at start with swap on and failSwapOn true (its default).
function swapFindings(f: PreflightFacts): Finding[] {
  const failSwapOn = f.kubeletFailSwapOn ?? f.cluster.kubelet?.failSwapOn ?? true;
  if (f.swapMode !== 'leave' || !f.swapActive || !failSwapOn) return [];
  const from = f.kubeletFailSwapOn !== undefined ? 'kubelet.failSwapOn' : f.cluster.kubelet?.failSwapOn !== undefined ? 'the cluster\'s kubelet-config' : 'the kubelet\'s default';
  return [{ level: 'error', check: 'swap', message: `swap is on and host.swap is leave, but failSwapOn is true (${from}): the kubelet would refuse to start after the join`, hint: 'set host.swap: disable (joinagent turns swap off and keeps it off), or kubelet.failSwapOn: false to run with swap' }];
}

// A Node of this name: Ready = another machine has the name (kubeadm itself refuses it);
// NotReady = most likely this machine before a reinstall, whose Node the kubelet would
// take over (labels and taints kept) unless it is deleted first.
function nodeFindings(f: PreflightFacts): Finding[] {
  const n = f.cluster.node;
  if (!n) return [];
  const seen = n.lastHeartbeat ? `, last heartbeat ${n.lastHeartbeat}` : '';
  const ips = n.internalIPs.length ? `, InternalIP ${n.internalIPs.join(', ')}` : '';
  const own = (f.machineId !== undefined && n.machineID === f.machineId) || n.internalIPs.some((ip) => f.localIPs?.includes(ip));
  if (n.ready && own) {
    // this machine's own Node, from before a `kubeadm reset`: its kubelet just stopped and
    // the control plane marks it NotReady ~40 s later; kubeadm refuses to join until then
    return [{ level: 'warn', check: 'node', message: `a Node "${n.name}" shows Ready but is this machine's own (${n.machineID === f.machineId ? 'same machine-id' : `InternalIP ${n.internalIPs.join(', ')} is this host's`}): left from before a reset; the kubelet takes it over, keeping its labels and taints`, hint: 'kubeadm join refuses a Ready Node of its name until the control plane marks it NotReady (about 40 s after its kubelet stopped): the agent retries' }];
  }
  if (n.ready) {
    return [{ level: 'error', check: 'node', message: `a Node "${n.name}" already exists and is Ready (${seen.slice(2) || 'reporting'}${ips}): another machine has this name`, hint: `give this node another name (nodeRegistration.name in the JoinConfiguration, or \`hostnamectl set-hostname NEW\`); if that machine is gone for good, on the control plane: \`kubectl drain ${n.name} --ignore-daemonsets && kubectl delete node ${n.name}\`` }];
  }
  const kept = describeKept(n);
  if (f.existingNode === 'adopt') {
    return [{ level: 'warn', check: 'node', message: `a NotReady Node "${n.name}" exists (a reinstall of this machine${seen}${ips}): joining under it, as join.existingNode: adopt asks; its ${kept} stay` }];
  }
  return [{ level: 'error', check: 'node', message: `a Node "${n.name}" already exists but is NotReady${n.lastHeartbeat ? ` (last heartbeat ${n.lastHeartbeat})` : ''}${ips}: this machine before a reinstall, or another machine that is down; the kubelet would take it over with its ${kept}`, hint: `on the control plane, \`kubectl delete node ${n.name}\`, then the next run joins afresh; or set join.existingNode: adopt to join under the existing Node and keep its labels and taints` }];
}

function describeKept(n: ExistingNode): string {
  const labels = Object.keys(n.labels).filter((k) => !/^(kubernetes\.io|beta\.kubernetes\.io)\/(hostname|os|arch)$/.test(k));
  const l = labels.length ? `labels ${labels.map((k) => `${k}=${n.labels[k]}`).join(', ')}` : 'labels (none beyond the kubelet\'s own)';
  const t = n.taints.length ? `taints ${n.taints.map((x) => `${x.key}${x.value ? `=${x.value}` : ''}:${x.effect}`).join(', ')}` : 'taints (none)';
  return `${l} and ${t}`;
}

// serverTLSBootstrap: the kubelet asks for its serving certificate with a CSR that no
// controller approves (kubernetes.io/kubelet-serving): an administrator must.
function servingFindings(f: PreflightFacts): Finding[] {
  if (f.cluster.kubelet?.serverTLSBootstrap !== true) return [];
  return [{ level: 'info', check: 'serving-cert', message: 'the cluster\'s kubelets request their serving certificate from the API server (serverTLSBootstrap: true): after the join a kubelet-serving CSR waits for an administrator', hint: `on the control plane: \`kubectl get csr --field-selector spec.signerName=kubernetes.io/kubelet-serving\` and \`kubectl certificate approve <name>\` for this node's (system:node:${f.nodeName})` }];
}

// A resolvConf that does not work here: fixed for this node by a kubeadm patch (said in one
// line), or reported when only the operator can choose (their own patch, no usable file).
function resolvFindings(f: PreflightFacts): Finding[] {
  const v = f.resolv;
  if (!v?.problem) return [];
  if (v.fix) return [{ level: 'info', check: 'resolv-conf', message: `${v.message} (kubeadm patch ${f.resolvPatch ?? 'in joinagent\'s patches directory'})` }];
  return [{ level: 'warn', check: 'resolv-conf', message: v.message, hint: `kube-proxy's and every other pod's sandbox fails ("Failed to create pod sandbox: open ...: no such file or directory") or CoreDNS loops: set resolvConf to a file with this host's real nameservers (a kubeletconfiguration patch in patches.directory)` }];
}
