import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';

// The cgroup driver, host side: kubelet and containerd's runc must manage cgroups the
// same way (kubelet's cgroupDriver, runc's SystemdCgroup), and the host must support it.
// A mismatch does not stop kubelet: pod sandboxes fail to start ("cgroup ... not a
// systemd slice", "expected cgroupsPath to be of format slice:prefix:name"). With
// containerd 2.x, kubelet 1.32 asks the runtime for the driver over the CRI
// (KubeletCgroupDriverFromCRI) and ignores its own setting: containerd's value decides.
export type CgroupMode = 'v2' | 'hybrid' | 'v1' | 'unknown';

export async function cgroupMode(files: Files): Promise<CgroupMode> {
  const root = paths.cgroupRoot;
  if (await files.exists(`${root}/cgroup.controllers`)) return 'v2';
  if (await files.exists(`${root}/unified/cgroup.controllers`)) return 'hybrid';
  if (await files.exists(`${root}/memory`)) return 'v1';
  return 'unknown';
}

export interface CgroupFacts {
  driver: 'systemd' | 'cgroupfs';
  /** kubelet.cgroupDriver was set (else kubeadm's default, systemd). */
  configured: boolean;
  systemdInit: boolean;
  mode: CgroupMode;
  /** runc's SystemdCgroup as the running containerd reports it (CRI status); undefined = not reported. */
  containerdSystemdCgroup?: boolean;
  containerdMajor?: number;
  /** cgroupDriver in /var/lib/kubelet/config.yaml on a joined node. */
  kubeletFileDriver?: string;
}

export interface Finding {
  message: string;
  hint: string;
}

// Pure: what is wrong (errors stop the run, warnings are reported) and a one-line summary.
export function cgroupVerdict(f: CgroupFacts): { errors: Finding[]; warnings: Finding[]; summary: string } {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const runc = f.containerdSystemdCgroup === undefined ? undefined : f.containerdSystemdCgroup ? 'systemd' : 'cgroupfs';
  const setting = f.configured ? 'kubelet.cgroupDriver' : 'the default (kubeadm writes systemd; set kubelet.cgroupDriver to change it)';
  if (runc !== undefined && runc !== f.driver) {
    errors.push({
      message: `containerd's runc uses the ${runc} cgroup driver (SystemdCgroup = ${f.containerdSystemdCgroup}), but kubelet's is ${f.driver} (${setting}): pods would fail to start`,
      hint: 'the containerd-config step sets SystemdCgroup from kubelet.cgroupDriver: was it skipped, or does containerd read another config (`systemctl cat containerd`, imports=)?',
    });
  }
  if (f.driver === 'systemd' && !f.systemdInit) {
    errors.push({ message: `cgroupDriver systemd needs systemd as the init system, and ${paths.systemdRunning} does not exist`, hint: 'set kubelet.cgroupDriver: cgroupfs on a host without systemd' });
  }
  if (f.driver === 'cgroupfs' && f.systemdInit) {
    warnings.push({ message: 'cgroupDriver cgroupfs on a host whose init is systemd: two cgroup managers, which kubeadm advises against (instability under resource pressure)', hint: 'use kubelet.cgroupDriver: systemd (kubeadm\'s default)' });
  }
  if (f.mode === 'v1' || f.mode === 'hybrid') {
    warnings.push({ message: `the host uses cgroup v1${f.mode === 'hybrid' ? ' (hybrid)' : ''}: Kubernetes put cgroup v1 support in maintenance mode in v1.31`, hint: 'boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1; the default on current distributions)' });
  }
  if (f.kubeletFileDriver !== undefined && runc !== undefined && f.kubeletFileDriver !== runc && !f.configured) {
    errors.push({
      message: `kubelet's config (${paths.kubeletConfig}) says cgroupDriver ${f.kubeletFileDriver}, containerd's runc uses ${runc}: pods would fail to start`,
      hint: `set kubelet.cgroupDriver: ${runc} (joinagent then corrects ${paths.kubeletConfig}), or change the cluster's kubelet-config`,
    });
  }
  const cri = f.containerdMajor !== undefined && f.containerdMajor >= 2 ? '; kubelet takes it from containerd over the CRI' : '';
  return { errors, warnings, summary: `${f.driver} (${f.configured ? 'kubelet.cgroupDriver' : 'default'}), containerd SystemdCgroup = ${f.containerdSystemdCgroup ?? 'not reported'}, cgroup ${f.mode}, init ${f.systemdInit ? 'systemd' : 'not systemd'}${cri}` };
}
