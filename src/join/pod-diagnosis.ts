import type { KubeProxyStatus } from './podstatus.js';

// What the node itself knows about why kube-proxy's pod does not run: the kubelet's cgroup
// driver against containerd's runc, and the two images a pod on this node needs, read
// through the CRI (the same preconditions the kubelet meets).
export interface PodFacts {
  /** cgroupDriver in /var/lib/kubelet/config.yaml (what kubelet uses when it cannot ask the runtime) */
  kubeletDriver?: string;
  /** runc's SystemdCgroup as the running containerd reports it (CRI Status info.config) */
  runcSystemdCgroup?: boolean;
  /** containerd answers RuntimeConfig (2.x): kubelet 1.32 then takes the driver from it */
  driverFromRuntime: boolean;
  sandboxImage?: string;
  sandboxPresent?: boolean;
  kubeProxyImage?: string;
  kubeProxyPresent?: boolean;
  /** resolvConf in /var/lib/kubelet/config.yaml (absent: the kubelet's /etc/resolv.conf) */
  resolvConf?: string;
  /** that file does not exist on this node */
  resolvConfMissing?: boolean;
}

export interface PodDiagnosis {
  message: string;
  hint: string;
  /** a cause that waiting will not cure */
  definite: boolean;
}

// Pure: the pod's state plus the node's facts -> the cause and the next action.
export function diagnoseKubeProxy(s: KubeProxyStatus, f: PodFacts): PodDiagnosis {
  // a cause is settled once the kubelet has reported the pod (a waiting reason, restarts);
  // before its first sync the pod is just Pending and the step waits
  const reported = s.pod?.waiting !== undefined || (s.pod?.restarts ?? 0) > 0;
  const runc = f.runcSystemdCgroup === undefined ? undefined : f.runcSystemdCgroup ? 'systemd' : 'cgroupfs';
  const kubelet = f.kubeletDriver ?? 'cgroupfs';
  // the kubelet builds the sandbox's DNS config from resolvConf before it asks the runtime
  // for a sandbox (pkg/kubelet/network/dns getHostDNSConfig): a missing file fails every
  // pod at that point, with the event "Failed to create pod sandbox: open ...: no such file or directory"
  if (f.resolvConf && f.resolvConfMissing) {
    return {
      message: `${s.summary}: the kubelet cannot create its pod sandbox: resolvConf ${f.resolvConf} (in /var/lib/kubelet/config.yaml) does not exist on this node ("Failed to create pod sandbox: open ${f.resolvConf}: no such file or directory")`,
      hint: `joinagent's kubelet-resolvconf step sets this node's resolvConf to the host's file (/etc/resolv.conf, or /run/systemd/resolve/resolv.conf under systemd-resolved) unless skipped; by hand: set resolvConf in /var/lib/kubelet/config.yaml and \`systemctl restart kubelet\``,
      definite: reported,
    };
  }
  if (!f.driverFromRuntime && runc !== undefined && runc !== kubelet) {
    const want = kubelet === 'systemd';
    return {
      message: `${s.summary}: its pod sandbox is killed and re-created because containerd's runc SystemdCgroup = ${f.runcSystemdCgroup} (${runc}) but kubelet uses ${kubelet} (cgroupDriver in /var/lib/kubelet/config.yaml)`,
      hint: `set SystemdCgroup = ${want} under the runc runtime's options in /etc/containerd/config.toml and \`systemctl restart containerd\` (joinagent's containerd-config step does this unless skipped)`,
      definite: reported,
    };
  }
  if (f.sandboxImage && f.sandboxPresent === false) {
    return {
      message: `${s.summary}: the pod sandbox cannot start: containerd's sandbox image ${f.sandboxImage} is not on this node and containerd could not pull it`,
      hint: `make ${f.sandboxImage} pullable (the registry mirror in /etc/containerd/certs.d, or images.archives for an air-gapped node) or import it: \`ctr -n k8s.io images import pause.tar\` (joinagent's images step does this unless skipped)`,
      definite: reported,
    };
  }
  if (f.kubeProxyImage && f.kubeProxyPresent === false) {
    return {
      message: `${s.summary}: the image ${f.kubeProxyImage} is not on this node and containerd could not pull it`,
      hint: `make ${f.kubeProxyImage} pullable (registry mirror, proxy) or import it (joinagent's images step does this unless skipped)`,
      definite: s.pod?.waiting === 'ErrImagePull' || s.pod?.waiting === 'ImagePullBackOff',
    };
  }
  return { message: s.summary, hint: `on the control plane: \`kubectl -n kube-system describe pod ${s.pod?.name ?? '-l k8s-app=kube-proxy'}\`; on this node: \`journalctl -u kubelet\``, definite: false };
}
