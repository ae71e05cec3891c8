import type { Change, Step, StepContext } from '../../engine/step.js';
import { waitForCriReady, withCri } from './cri.js';
import type { RuntimeStepOptions } from './containerd-config.js';

// UnitFileState values (the words `systemctl is-enabled` prints) that mean "starts at
// boot" (static/indirect units are pulled in by something else and cannot be enabled directly).
const ENABLED = ['enabled', 'enabled-runtime', 'static', 'indirect', 'alias'];

// The containerd service enabled for boot and running now; `enable --now` only when not.
export function containerdRunningStep(opts: RuntimeStepOptions): Step {
  return {
    id: 'containerd-running',
    title: 'containerd service enabled and running',
    phase: 'runtime',
    after: opts.after,
    async check(ctx) {
      const changes = await serviceChanges(ctx);
      return changes.length ? { state: 'change', changes } : { state: 'ok' };
    },
    async apply(ctx) {
      await ctx.proc.run('systemctl', ['enable', '--now', 'containerd'], { timeoutMs: 120_000 });
      await withCri(ctx, (client, ep) => waitForCriReady(ctx, client, ep, opts.readyTimeoutMs));
    },
  };
}

// One `systemctl show` answers both questions (two is-enabled/is-active processes cost
// ~20-40 ms each of a no-op run).
async function serviceChanges(ctx: StepContext): Promise<Change[]> {
  const r = await ctx.proc.probe('systemctl', ['show', '--property=UnitFileState,ActiveState', 'containerd'], { allowFailure: true });
  const get = (k: string): string => (r.exitCode === 0 ? new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? '' : '');
  const enabled = get('UnitFileState');
  const active = get('ActiveState');
  const changes: Change[] = [];
  if (!ENABLED.includes(enabled)) changes.push({ kind: 'value', name: 'containerd.service enabled', live: enabled || 'unknown', wanted: 'enabled', undo: enabled ? [['systemctl', 'disable', 'containerd']] : [] });
  if (active !== 'active') changes.push({ kind: 'value', name: 'containerd.service active', live: active || 'unknown', wanted: 'active', undo: active ? [['systemctl', 'stop', 'containerd']] : [] });
  return changes;
}
