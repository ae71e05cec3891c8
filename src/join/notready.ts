// Why a joined Node is not Ready, classified from this node's own state (files, services,
// firewall) and the Node's conditions, most specific first, each with the next action.
// The kubelet only says "network plugin not ready" or "PLEG is not healthy": the cause
// is on the host, and most of it can be read there.
export type NotReadyCause = 'no-cni-config' | 'no-cni-binaries' | 'networkmanager' | 'overlay-port' | 'kubelet-cert' | 'disk-pressure' | 'memory-pressure' | 'pid-pressure' | 'runtime';

export interface NotReadyFinding {
  cause: NotReadyCause;
  message: string;
  hint: string;
}

export interface NotReadyFacts {
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  /** Files in /etc/cni/net.d that the CRI loads (.conf, .conflist, .json). */
  cniConfigs: string[];
  /** Plugin `type`s the first config names (what the CRI will exec). */
  cniPluginTypes: string[];
  /** Files in /opt/cni/bin. */
  cniBinaries: string[];
  networkManagerActive: boolean;
  /** NetworkManager's conf marks the CNI's interfaces unmanaged. */
  networkManagerIgnoresCni: boolean;
  /** The overlay port the CNI uses ("8472/udp" for flannel VXLAN), and whether the host
   *  firewall lets it in: undefined = no firewall found, or not known. */
  overlay?: { port: string; firewall: string; open: boolean };
  kubeletCertExpired?: string;
}

export const CNI_DIR = '/etc/cni/net.d';
export const CNI_BIN = '/opt/cni/bin';

export function classifyNotReady(f: NotReadyFacts): NotReadyFinding[] {
  const out: NotReadyFinding[] = [];
  const cond = (t: string): boolean => f.conditions.some((c) => c.type === t && c.status === 'True');
  if (f.kubeletCertExpired) out.push({ cause: 'kubelet-cert', message: `the kubelet's client certificate expired at ${f.kubeletCertExpired}`, hint: 'put a new bootstrap token in the token file: joinagent re-bootstraps the kubelet with it' });
  const ready = f.conditions.find((c) => c.type === 'Ready');
  const text = `${ready?.reason ?? ''} ${ready?.message ?? ''}`;
  if (/container runtime is down|runtime not ready|RuntimeReady=false|PLEG is not healthy/i.test(text)) out.push({ cause: 'runtime', message: `the container runtime is not ready (${ready?.message ?? ready?.reason})`, hint: '`systemctl status containerd` and `crictl info`; joinagent run repairs containerd\'s config and service' });
  if (f.cniConfigs.length === 0) {
    out.push({ cause: 'no-cni-config', message: `no CNI network config in ${CNI_DIR}: the cluster's network add-on has not run on this node`, hint: 'on the control plane: is the CNI DaemonSet (e.g. `kubectl -n kube-flannel get ds`) scheduled to this node? its pod writes the config; check its tolerations and image pull' });
  } else {
    const missing = f.cniPluginTypes.filter((t) => !f.cniBinaries.includes(t));
    if (missing.length) out.push({ cause: 'no-cni-binaries', message: `${CNI_DIR}/${f.cniConfigs[0]} needs the CNI plugins ${missing.join(', ')}, which are not in ${CNI_BIN}`, hint: `install the CNI plugins (the \`kubernetes-cni\` package, or the CNI's own init container copies them) into ${CNI_BIN}` });
  }
  if (f.networkManagerActive && !f.networkManagerIgnoresCni) out.push({ cause: 'networkmanager', message: 'NetworkManager runs and manages every interface, the CNI\'s (cni0, flannel.1, cali*) included: it may remove their addresses and routes', hint: 'joinagent run writes /etc/NetworkManager/conf.d/joinagent-cni.conf (unmanaged-devices for the CNI\'s interfaces) and reloads NetworkManager' });
  if (f.overlay && !f.overlay.open) out.push({ cause: 'overlay-port', message: `${f.overlay.firewall} does not let the overlay network's ${f.overlay.port} in: pods on other nodes cannot reach this one`, hint: `host.firewall: open-ports opens it (host.firewallPorts and the CNI's overlay port), or ${f.overlay.firewall === 'ufw' ? `\`ufw allow ${f.overlay.port}\`` : `\`firewall-cmd --permanent --add-port=${f.overlay.port} && firewall-cmd --reload\``}` });
  if (cond('DiskPressure')) out.push({ cause: 'disk-pressure', message: 'the kubelet reports DiskPressure: the node\'s filesystem is nearly full', hint: '`df -h /var/lib/kubelet /var/lib/containerd`; free space or `crictl rmi --prune`' });
  if (cond('MemoryPressure')) out.push({ cause: 'memory-pressure', message: 'the kubelet reports MemoryPressure', hint: '`free -m`; check kubelet.systemReserved and evictionHard' });
  if (cond('PIDPressure')) out.push({ cause: 'pid-pressure', message: 'the kubelet reports PIDPressure: too many processes', hint: '`ps -e | wc -l` against kernel.pid_max' });
  return out;
}

// The overlay port of the CNI a config names: flannel VXLAN 8472/udp, Calico VXLAN 4789/udp.
export function overlayPortOf(configText: string): string | undefined {
  if (/"type"\s*:\s*"flannel"/.test(configText)) return '8472/udp';
  if (/"type"\s*:\s*"calico"/.test(configText)) return '4789/udp';
  return undefined;
}

// The `type`s of a CNI config (a .conflist's plugins, or a single .conf).
export function pluginTypes(configText: string): string[] {
  try {
    const c = JSON.parse(configText) as { type?: string; plugins?: { type?: string }[] };
    return [...new Set([...(c.plugins ?? []).map((p) => p.type), c.type].filter((t): t is string => typeof t === 'string'))];
  } catch {
    return [];
  }
}

// NetworkManager keyfile `unmanaged-devices` covering the CNI's interfaces.
export const CNI_UNMANAGED = 'interface-name:cni0;interface-name:flannel*;interface-name:cali*;interface-name:tunl*;interface-name:vxlan.calico;interface-name:vxlan-v6.calico;interface-name:veth*';

// Whether a NetworkManager.conf text (one file, or `NetworkManager --print-config`'s merge)
// lists the CNI's interfaces under unmanaged-devices, set (=) or appended to (+=).
export function ignoresCni(nmConf: string): boolean {
  const lines = [...nmConf.matchAll(/^\s*unmanaged-devices\s*\+?=\s*(.*)$/gm)].map((m) => m[1]).join(';');
  return /interface-name:(cni0|flannel)/.test(lines) && /interface-name:(veth|cali)/.test(lines);
}
