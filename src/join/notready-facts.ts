import type { Files } from '../host/files.js';
import type { Proc } from '../host/proc.js';
import { CNI_BIN, CNI_DIR, ignoresCni, overlayPortOf, pluginTypes, type NotReadyFacts } from './notready.js';

export const NM_CONF_DIR = '/etc/NetworkManager/conf.d';

// Reads what classifyNotReady needs from this host, read-only.
export async function gatherNotReadyFacts(files: Files, proc: Proc, conditions: NotReadyFacts['conditions']): Promise<NotReadyFacts> {
  const cniConfigs = (await files.list(CNI_DIR).catch(() => [])).filter((n) => /\.(conf|conflist|json)$/.test(n)).sort();
  const first = cniConfigs.length ? ((await files.read(`${CNI_DIR}/${cniConfigs[0]}`)) ?? '') : '';
  const nm = await proc.probe('systemctl', ['is-active', 'NetworkManager'], { allowFailure: true });
  const nmConfs = await Promise.all([`/etc/NetworkManager/NetworkManager.conf`, ...(await files.list(NM_CONF_DIR).catch(() => [])).map((n) => `${NM_CONF_DIR}/${n}`)].map((p) => files.read(p)));
  const port = overlayPortOf(first);
  return {
    conditions,
    cniConfigs,
    cniPluginTypes: pluginTypes(first),
    cniBinaries: await files.list(CNI_BIN).catch(() => []),
    networkManagerActive: !nm.notFound && nm.stdout.trim() === 'active',
    networkManagerIgnoresCni: nmConfs.some((t) => t !== null && ignoresCni(t)),
    overlay: port ? await overlayOpen(proc, port) : undefined,
  };
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
