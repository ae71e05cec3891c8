import type { Step } from '../../engine/step.js';
import { CNI_UNMANAGED } from '../../join/notready.js';
import { NM_CONF_DIR } from '../../join/notready-facts.js';
import { commandChange, fileChange, runCommandChanges, writeFileChanges } from './file-change.js';

export const NM_CNI_CONF = `${NM_CONF_DIR}/joinagent-cni.conf`;

// NetworkManager manages every interface it sees unless told otherwise, the CNI's too
// (cni0, flannel.1, cali*, veth*): it strips their addresses and routes and the node
// goes NotReady or loses pod traffic (rancher/rke2#786; Calico's and RKE2's docs ask for
// exactly this file). Only where NetworkManager is installed; reloaded (not restarted:
// no link goes down) only when the file changed and NetworkManager runs.
// `+=` appends to what files read earlier set (NetworkManager.conf(5)): with `=`, this file
// (read after any 00-99 name) would replace an operator's own unmanaged-devices, and
// NetworkManager would take over the interfaces they had kept from it.
export function renderNmCniConf(): string {
  return `# written by joinagent: the CNI's interfaces are the CNI's, not NetworkManager's\n[keyfile]\nunmanaged-devices+=${CNI_UNMANAGED}\n`;
}

export const networkManagerCniStep: Step = {
  id: 'networkmanager-cni',
  title: 'NetworkManager leaves the CNI\'s interfaces alone',
  phase: 'host',
  async check(ctx) {
    if (!(await ctx.files.exists('/etc/NetworkManager'))) return { state: 'skip', reason: 'NetworkManager is not installed' };
    const c = await fileChange(ctx, NM_CNI_CONF, renderNmCniConf());
    if (!c) return { state: 'ok', message: `${NM_CNI_CONF}: unmanaged-devices for the CNI's interfaces` };
    const active = (await ctx.proc.probe('systemctl', ['is-active', 'NetworkManager'], { allowFailure: true })).stdout.trim() === 'active';
    return { state: 'change', changes: [c, ...(active ? [commandChange(['systemctl', 'reload', 'NetworkManager'])] : [])] };
  },
  async apply(ctx, changes) {
    await ctx.files.mkdir(NM_CONF_DIR, 0o755);
    await writeFileChanges(ctx, changes);
    await runCommandChanges(ctx, 'networkmanager-cni', changes, () => '`systemctl status NetworkManager`; the file is written and takes effect at its next start');
  },
};
