// Which resolv.conf this node's kubelet must read, decided from the cluster's kubelet-config
// and this host (pure). The kubelet reads the file named by resolvConf for every pod it
// creates (the host's nameservers go into pods with dnsPolicy Default, and into hostNetwork
// pods such as kube-proxy): a file that does not exist fails every pod sandbox ("Failed to
// create pod sandbox: open /run/systemd/resolve/resolv.conf: no such file or directory",
// pkg/kubelet/network/dns getHostDNSConfig), and systemd-resolved's stub (127.0.0.53) in a
// pod is the pod's own loopback, so CoreDNS forwards to itself (coredns/coredns#2087).
// kubeadm up to v1.30 wrote the init host's choice into the cluster-wide kubelet-config
// (resolvConf: /run/systemd/resolve/resolv.conf on a resolved host); since v1.31
// (kubernetes/kubernetes#124038) it decides per node at join, but only when the ConfigMap
// leaves resolvConf unset, so clusters made earlier, or configured so, still carry it.
export const RESOLVED_CONF = '/run/systemd/resolve/resolv.conf';
export const ETC_RESOLV_CONF = '/etc/resolv.conf';

export interface ResolvHost {
  /** `systemctl is-active systemd-resolved` answered active */
  resolvedActive: boolean;
  /** Contents of the files that matter (null: missing), by path. */
  files: Record<string, string | null>;
}

export interface ResolvVerdict {
  /** What the kubelet would read without joinagent ('' = no host DNS, the operator's choice). */
  kubeletWould: string;
  /** Where that value comes from, for messages. */
  from: string;
  /** Set when joinagent should give this node's kubelet another file. */
  fix?: string;
  /** Why kubeletWould does not work here (undefined when it does). */
  problem?: string;
  /** One line: what is decided. */
  message: string;
  /** a problem joinagent cannot fix (no usable file, or the operator's own patch) */
  unfixable?: boolean;
}

export interface ResolvInput {
  /** resolvConf in the cluster's kubelet-config; undefined = not set there; null = not read. */
  cluster: string | undefined | null;
  /** resolvConf set by the operator's own kubeletconfiguration patches, if any. */
  operator?: string;
  host: ResolvHost;
}

// The nameserver lines of a resolv.conf.
export function nameservers(text: string): string[] {
  return text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => s !== undefined);
}

// Only loopback nameservers (systemd-resolved's 127.0.0.53 stub, a local dnsmasq): useless
// inside a pod's network namespace.
export function loopbackOnly(text: string): boolean {
  const ns = nameservers(text);
  return ns.length > 0 && ns.every((n) => /^127\./.test(n) || n === '::1');
}

// The file this host's kubelet should read: resolved's upstream list when /etc/resolv.conf
// is its stub, else /etc/resolv.conf (undefined when neither works).
export function hostResolvConf(h: ResolvHost): string | undefined {
  const etc = h.files[ETC_RESOLV_CONF] ?? null;
  const run = h.files[RESOLVED_CONF] ?? null;
  if (etc !== null && !loopbackOnly(etc)) return ETC_RESOLV_CONF;
  if (run !== null && !loopbackOnly(run)) return RESOLVED_CONF;
  return undefined;
}

// What kubeadm v1.32 join would give the kubelet, then whether that works on this host.
export function resolvConfVerdict(i: ResolvInput): ResolvVerdict {
  const { kubeletWould, from } = kubeadmChoice(i);
  const problem = kubeletWould === '' ? undefined : whyNot(kubeletWould, i.host);
  if (!problem) return { kubeletWould, from, message: `resolvConf ${kubeletWould === '' ? '"" (no host DNS)' : kubeletWould} (${from}) works on this host` };
  const want = hostResolvConf(i.host);
  const resolved = i.host.resolvedActive ? 'systemd-resolved is running' : 'systemd-resolved is not running';
  if (i.operator !== undefined) {
    return { kubeletWould, from, problem, unfixable: true, message: `resolvConf ${kubeletWould} (${from}) ${problem}: pods on this node would not get DNS${want ? `; this host's file is ${want}` : ''}` };
  }
  if (!want) {
    return { kubeletWould, from, problem, unfixable: true, message: `resolvConf ${kubeletWould} (${from}) ${problem}, and this host has no usable resolv.conf (${ETC_RESOLV_CONF} ${describe(i.host.files[ETC_RESOLV_CONF])}, ${RESOLVED_CONF} ${describe(i.host.files[RESOLVED_CONF])}): pods on this node would not get DNS` };
  }
  return { kubeletWould, from, problem, fix: want, message: `resolvConf ${kubeletWould} (${from}) ${problem} (${resolved}): this node's kubelet gets ${want}` };
}

function kubeadmChoice(i: ResolvInput): { kubeletWould: string; from: string } {
  if (i.operator !== undefined) return { kubeletWould: i.operator, from: 'your kubeletconfiguration patch' };
  if (typeof i.cluster === 'string') return { kubeletWould: i.cluster, from: "the cluster's kubelet-config" };
  // unset in the ConfigMap: kubeadm join's Mutate picks resolved's file when the service is
  // active on the joining node (cmd/kubeadm/app/componentconfigs/kubelet_unix.go), else the
  // kubelet's own default
  if (i.host.resolvedActive) return { kubeletWould: RESOLVED_CONF, from: 'kubeadm, as systemd-resolved is active' };
  return { kubeletWould: ETC_RESOLV_CONF, from: "the kubelet's default" };
}

function whyNot(path: string, h: ResolvHost): string | undefined {
  if (!(path in h.files)) return undefined;
  const text = h.files[path];
  if (text === null) return 'does not exist on this host';
  if (loopbackOnly(text)) return `names only loopback nameservers (${nameservers(text).join(', ')}: systemd-resolved's stub), which inside a pod are the pod itself (a CoreDNS forwarding loop)`;
  return undefined;
}

function describe(text: string | null | undefined): string {
  if (text === null || text === undefined) return 'missing';
  return loopbackOnly(text) ? 'loopback only' : nameservers(text).length ? 'usable' : 'no nameserver';
}

// A merge patch of KubeletConfiguration setting resolvConf (kubeadm's patches directory).
export function renderResolvPatch(path: string, why: string): string {
  return `# Written by joinagent for this node only: ${why}.\nresolvConf: ${path}\n`;
}
