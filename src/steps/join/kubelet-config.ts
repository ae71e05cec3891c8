import { hasKubeletSettings } from '../../config/kubelet.js';
import { StepError, type Step, type StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { kubeletJournal, waitKubeletHealthy } from '../../join/kubelet.js';
import { kubeletSettingDiffs, mergeKubeletSettings } from '../../join/kubelet-settings.js';

const RESTART = 'systemctl restart kubelet (to read the changed config)';

// After the join: the kubelet: settings are in /var/lib/kubelet/config.yaml (kubeadm put
// them there from joinagent's patch). A setting changed in the config later, or the
// file edited, is merged back and kubelet restarted: what an operator does by hand
// (kubeadm's patch stays in /var/lib/joinagent/patches for `kubeadm upgrade node --patches`).
export const kubeletConfigStep: Step = {
  id: 'kubelet-config',
  title: 'kubelet settings in /var/lib/kubelet/config.yaml',
  phase: 'join',
  after: ['join'],
  async check(ctx) {
    const k = ctx.config.agent.kubelet;
    if (!hasKubeletSettings(k)) return { state: 'skip', reason: 'no kubelet: settings in the config' };
    const text = await ctx.files.read(paths.kubeletConfig);
    if (text === null) return { state: 'skip', reason: `not joined yet: kubeadm join writes ${paths.kubeletConfig} with the settings` };
    const diffs = kubeletSettingDiffs(text, k);
    ctx.publish('kubelet', { config: paths.kubeletConfig, settings: k, differs: diffs.map((d) => d.key) });
    if (diffs.length === 0) return { state: 'ok', message: `${Object.keys(k).join(', ')} as configured` };
    return {
      state: 'change',
      changes: [...diffs.map((d) => ({ kind: 'value' as const, name: `kubelet ${d.key}`, live: d.live, wanted: d.wanted })), { kind: 'file', path: paths.kubeletConfig, before: text, after: mergeKubeletSettings(text, k) }, { kind: 'action', description: RESTART }],
    };
  },
  async apply(ctx, changes) {
    for (const c of changes) if (c.kind === 'file' && c.after !== null) await ctx.files.write(c.path, c.after, { mode: 0o644 });
    await restartKubeletForConfig(ctx, 'config');
  },
};

// config.yaml changed under a running kubelet: restart it and wait for its health, else
// fail (retryable) with its journal. `what` names the change in the message.
export async function restartKubeletForConfig(ctx: StepContext, what: string): Promise<void> {
  await ctx.proc.run('systemctl', ['restart', 'kubelet'], { allowFailure: true });
  if (!(await waitKubeletHealthy(60_000, ctx.signal))) {
    throw new StepError(`kubelet is not healthy after its ${what} changed (${paths.kubeletConfig})`, `kubelet journal:\n${await kubeletJournal(ctx.proc)}`, true);
  }
}
