import type { Files } from '../host/files.js';
import type { Proc } from '../host/proc.js';
import { CNI_BIN, CNI_DIR, ignoresCni, overlayPortOf, pluginTypes, type NotReadyFacts } from './notready.js';

export const NM_CONF_DIR = '/etc/NetworkManager/conf.d';

// Reads what classifyNotReady needs from this host, read-only.
export async function gatherNotReadyFacts(files: Files, proc: Proc, conditions: NotReadyFacts['conditions']): Promise<NotReadyFacts> {
  const cni = await firstCniConfig(files);
  const nm = await proc.probe('systemctl', ['is-active', 'NetworkManager'], { allowFailure: true });
  const port = cni ? overlayPortOf(cni.text) : undefined;
  return {
    conditions,
    cniConfigs: cni?.all ?? [],
    cniPluginTypes: cni ? pluginTypes(cni.text) : [],
    cniBinaries: await files.list(CNI_BIN).catch(() => []),
    networkManagerActive: !nm.notFound && nm.stdout.trim() === 'active',
    networkManagerIgnoresCni: await networkManagerIgnoresCni(files, proc),
    overlay: port ? await overlayOpen(proc, port) : undefined,
  };
}

// The CNI config the runtime loads: the first of /etc/cni/net.d in lexical order, as
// containerd's CRI (libcni ConfFiles, sorted) picks it; all = every candidate file.
export async function firstCniConfig(files: Files): Promise<{ name: string; text: string; all: string[] } | undefined> {
  const all = (await files.list(CNI_DIR).catch(() => [])).filter((n) => /\.(conf|conflist|json)$/.test(n)).sort();
  if (!all.length) return undefined;
  return { name: all[0], text: (await files.read(`${CNI_DIR}/${all[0]}`)) ?? '', all };
}

// The overlay port of the CNI config on this node (flannel 8472/udp, Calico 4789/udp),
// with the file that says so; undefined before the CNI ran or for a CNI without one.
export async function cniOverlayPort(files: Files): Promise<{ port: string; file: string } | undefined> {
  const cni = await firstCniConfig(files);
  const port = cni ? overlayPortOf(cni.text) : undefined;
  return cni && port ? { port, file: `${CNI_DIR}/${cni.name}` } : undefined;
}

// NetworkManager's own merged view (`NetworkManager --print-config`: /usr/lib, /run and
// /etc conf.d in its order, `+=` appends applied) when the binary answers; else its
// files read here, any of which may list the CNI's interfaces.
async function networkManagerIgnoresCni(files: Files, proc: Proc): Promise<boolean> {
  const merged = await proc.probe('NetworkManager', ['--print-config'], { allowFailure: true });
  if (!merged.notFound && merged.exitCode === 0) return ignoresCni(merged.stdout);
  const confs = await Promise.all([`/etc/NetworkManager/NetworkManager.conf`, ...(await files.list(NM_CONF_DIR).catch(() => [])).map((n) => `${NM_CONF_DIR}/${n}`)].map((p) => files.read(p)));
  return confs.some((t) => t !== null && ignoresCni(t));
}

// firewalld and ufw, the two host firewalls joinagent manages (steps/host/firewall.ts).
async function overlayOpen(proc: Proc, port: string): Promise<NotReadyFacts['overlay']> {
  const state = await proc.probe('firewall-cmd', ['--state'], { allowFailure: true });
  if (!state.notFound && state.exitCode === 0) {
    const q = await proc.probe('firewall-cmd', [`--query-port=${port}`], { allowFailure: true });
    return { port, firewall: 'firewalld', open: q.exitCode === 0 };
  }
  const ufw = await proc.probe('ufw', ['status'], { allowFailure: true });
  if (!ufw.notFound && /Status: active/.test(ufw.stdout)) return { port, firewall: 'ufw', open: ufw.stdout.includes(port) };
  return undefined;
}
