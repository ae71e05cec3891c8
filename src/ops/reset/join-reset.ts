import { loadState, saveState } from '../../engine/state.js';
import { paths } from '../../host/paths.js';
import type { ResetAction, ResetContext } from './types.js';

// Undoing the join: what `kubeadm reset` does not know about is joinagent's own record
// of the join (state.json, the rendered JoinConfiguration), so the next run joins again.
export async function joinResetActions(ctx: ResetContext): Promise<ResetAction[]> {
  const { files, proc } = ctx;
  const actions: ResetAction[] = [
    {
      title: "run 'kubeadm reset --force' (removes /etc/kubernetes, the kubelet's state and the node's containers)",
      async run() {
        const r = await proc.run('kubeadm', ['reset', '--force'], { allowFailure: true, timeoutMs: 5 * 60_000 });
        if (r.notFound) return 'kubeadm is not installed: nothing for it to reset';
        if (r.exitCode !== 0) throw new Error(`kubeadm reset --force exited ${r.exitCode}: ${(r.stderr.trim() || r.stdout.trim()).split('\n').pop()}`);
        return "left for you, as kubeadm says: CNI config in /etc/cni/net.d, iptables/IPVS rules, $HOME/.kube/config";
      },
    },
    {
      title: 'stop the kubelet (systemctl stop kubelet)',
      async run() {
        const r = await proc.run('systemctl', ['stop', 'kubelet'], { allowFailure: true, timeoutMs: 60_000 });
        if (r.notFound) return 'systemctl is not available: stop the kubelet yourself if it runs';
        if (r.exitCode !== 0 && !/not loaded|not found/i.test(r.stderr)) throw new Error(`systemctl stop kubelet exited ${r.exitCode}: ${r.stderr.trim()}`);
      },
    },
  ];
  if (await files.exists(paths.joinConfig)) {
    actions.push({ title: `remove the rendered join config ${paths.joinConfig}`, run: async () => void (await files.remove(paths.joinConfig, { backup: false })) });
  }
  if (await files.exists(paths.upgradeRecord)) {
    actions.push({ title: `remove the node's Kubernetes version record ${paths.upgradeRecord}`, run: async () => void (await files.remove(paths.upgradeRecord, { backup: false })) });
  }
  if (await files.exists(paths.joinAttempt)) {
    actions.push({ title: `remove the record of an interrupted join ${paths.joinAttempt}`, run: async () => void (await files.remove(paths.joinAttempt, { backup: false })) });
  }
  actions.push({
    title: `record the node as not joined in ${paths.state} (status shows joined: false)`,
    async run() {
      let problem: string | undefined;
      const state = await loadState(files, (w) => (problem = w));
      state.published.joined = false;
      delete state.published.node;
      delete state.joinedAt;
      await saveState(files, state);
      return problem;
    },
  });
  return actions;
}
