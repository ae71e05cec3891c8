import { StepError, type Change, type Step, type StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { describeFailure } from '../../host/proc.js';
import { fileChange, writeFileChanges } from './file-change.js';

export type SelinuxMode = 'enforcing' | 'permissive' | 'disabled';

// /etc/selinux/config with SELINUX=enforcing turned into permissive; every other line
// (SELINUXTYPE, comments) kept. `disabled` stays disabled: turning it into permissive
// would re-enable SELinux (and a full relabel) at the next boot.
export function permissiveSelinuxConfig(text: string): string {
  return text.replace(/^(\s*SELINUX\s*=\s*)(["']?)enforcing\2(\s*(#.*)?)$/gim, '$1permissive$3');
}

// The live mode: /sys/fs/selinux/enforce when selinuxfs is mounted, else getenforce;
// null when neither exists (no SELinux on this host).
async function liveMode(ctx: StepContext): Promise<SelinuxMode | null> {
  if (await ctx.files.exists('/sys/fs/selinux')) {
    const enforce = await ctx.files.read('/sys/fs/selinux/enforce');
    if (enforce === null) return 'disabled';
    return enforce.trim() === '1' ? 'enforcing' : 'permissive';
  }
  const r = await ctx.proc.probe('getenforce', [], { allowFailure: true });
  if (r.notFound) return null;
  const mode = r.stdout.trim().toLowerCase();
  return mode === 'enforcing' || mode === 'permissive' ? mode : 'disabled';
}

// selinux: permissive now and after reboot. Kubelet and most CNIs run without SELinux
// labels for their host paths, so enforcing mode breaks pods in ways that look random.
export const selinuxStep: Step = {
  id: 'selinux',
  title: 'SELinux permissive (now and at boot)',
  phase: 'host',
  async check(ctx) {
    if (ctx.config.agent.host.selinux === 'leave') return { state: 'skip', reason: 'host.selinux: leave' };
    const mode = await liveMode(ctx);
    const config = await ctx.files.read(paths.selinuxConfig);
    if (mode === null && config === null) return { state: 'skip', reason: 'SELinux is not present on this host' };
    const changes: Change[] = [];
    if (mode === 'enforcing') changes.push({ kind: 'value', name: 'SELinux mode', live: 'enforcing', wanted: 'permissive', undo: [['setenforce', '1']] });
    if (config !== null) {
      const c = await fileChange(ctx, paths.selinuxConfig, permissiveSelinuxConfig(config));
      if (c) changes.push(c);
    }
    return changes.length ? { state: 'change', changes } : { state: 'ok', message: `SELinux ${mode ?? 'absent'}` };
  },
  async apply(ctx, changes) {
    await writeFileChanges(ctx, changes);
    if (changes.some((c) => c.kind === 'value')) {
      const r = await ctx.proc.run('setenforce', ['0'], { allowFailure: true });
      if (r.exitCode !== 0) throw new StepError(`selinux: setenforce 0 failed: ${describeFailure(r)}`, 'a policy may forbid switching modes at runtime (secure_mode_policyload); reboot to apply /etc/selinux/config');
    }
  },
};
