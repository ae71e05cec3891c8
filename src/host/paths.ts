// One place derives every filesystem path joinagent uses (k0s style), so tests and
// `--root` can relocate the whole host and no module invents its own location.
export const paths = {
  config: '/etc/joinagent/config.yaml',
  tokenFile: '/etc/joinagent/token',
  stateDir: '/var/lib/joinagent',
  state: '/var/lib/joinagent/state.json',
  backupDir: '/var/lib/joinagent/backup',
  backupManifest: '/var/lib/joinagent/backup/manifest.json',
  snapshotDir: '/var/lib/joinagent/snapshots',
  snapshotBefore: '/var/lib/joinagent/snapshots/before.json',
  snapshotAfter: '/var/lib/joinagent/snapshots/after.json',
  joinConfig: '/var/lib/joinagent/kubeadm-join.yaml',
  /** The patches directory kubeadm join gets when kubelet: is set (joinagent's patch + the operator's). */
  patchesDir: '/var/lib/joinagent/patches',
  /** Present only while joinagent's own `kubeadm join` runs: left behind = it was interrupted. */
  joinAttempt: '/var/lib/joinagent/join-attempt.json',
  /** The Kubernetes version this node runs, and an upgrade's progress (upgrade/record.ts). */
  upgradeRecord: '/var/lib/joinagent/upgrade.json',
  /** The machine's identity as prepare (or a run before the join) saw it: tells a copy of a golden image from its builder. */
  identityRecord: '/var/lib/joinagent/identity.json',
  runDir: '/run/joinagent',
  lock: '/run/joinagent/lock',
  binary: '/usr/local/bin/joinagent',
  unit: '/etc/systemd/system/joinagent.service',
  configDir: '/etc/joinagent',
  /** Where the .deb (/lib) and .rpm (/usr/lib) put the unit; their binary is /usr/bin/joinagent. */
  packageUnits: ['/lib/systemd/system/joinagent.service', '/usr/lib/systemd/system/joinagent.service'],
  packageBinary: '/usr/bin/joinagent',
  /** Exists when systemd is PID 1 (sd_booted()); absent in a chroot or image build. */
  systemdRunning: '/run/systemd/system',
  machineId: '/etc/machine-id',
  productUuid: '/sys/class/dmi/id/product_uuid',
  defaults: '/etc/default/joinagent',
  kubeletConf: '/etc/kubernetes/kubelet.conf',
  kubeCaCert: '/etc/kubernetes/pki/ca.crt',
  bootstrapKubeletConf: '/etc/kubernetes/bootstrap-kubelet.conf',
  kubeletConfig: '/var/lib/kubelet/config.yaml',
  kubeadmFlags: '/var/lib/kubelet/kubeadm-flags.env',
  kubeletClientCert: '/var/lib/kubelet/pki/kubelet-client-current.pem',
  containerdConfig: '/etc/containerd/config.toml',
  containerdCertsDir: '/etc/containerd/certs.d',
  containerdSocket: '/run/containerd/containerd.sock',
  crictlConfig: '/etc/crictl.yaml',
  sysctlConf: '/etc/sysctl.d/k8s.conf',
  modulesConf: '/etc/modules-load.d/k8s.conf',
  fstab: '/etc/fstab',
  hosts: '/etc/hosts',
  selinuxConfig: '/etc/selinux/config',
  osRelease: '/etc/os-release',
  kubeletEnvFiles: ['/etc/sysconfig/kubelet', '/etc/default/kubelet', '/var/lib/kubelet/kubeadm-flags.env'],
  kubernetesDir: '/etc/kubernetes',
  kubeletDir: '/var/lib/kubelet',
  containerdRunDir: '/run/containerd',
  cgroupRoot: '/sys/fs/cgroup',
  sysctlRoot: '/proc/sys',
  procRoot: '/proc',
  sysClassNet: '/sys/class/net',
} as const;

export const DEFAULT_STATUS_ADDRESS = '127.0.0.1:9797';

// kubelet's healthz endpoint (kubeadm waits on the same URL). The port can be moved
// only for tests that run a stand-in kubelet on the build machine's loopback.
export function kubeletHealthzUrl(): string {
  return `http://127.0.0.1:${process.env.JOINAGENT_TEST_KUBELET_PORT ?? '10248'}/healthz`;
}
