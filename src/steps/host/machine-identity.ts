import type { Step, StepContext } from '../../engine/step.js';
import { StepError } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { cloneVerdict, type IdentityRecord, type MachineIdentity } from '../../join/machine-clone.js';
import { inspectLocal } from '../../join/local.js';

export interface MachineIdentityPublished {
  machineId: string;
  productUuid?: string;
  hostname: string;
  /** Who recorded the identity this machine is compared with, and when. */
  recordedBy: IdentityRecord['by'];
  recordedAt: string;
}

// Runs first in `prepare` and `run`, before anything on the host changes: a copy of a
// golden image that kept the builder's /etc/machine-id is refused (join/machine-clone.ts);
// otherwise this machine's identity is recorded in joinagent's state dir, so the copies
// made from it later can be recognised. A joined node keeps the record of its join.
export function machineIdentityStep(by: IdentityRecord['by']): Step {
  return {
    id: 'machine-identity',
    title: 'Machine identity: not a copy of a golden image sharing its machine-id',
    phase: 'host',
    async check(ctx) {
      if ((await inspectLocal(ctx.files)).kubeletConf) return { state: 'skip', reason: 'already joined: the identity of its join stands' };
      const now = identityNow(ctx);
      // an image built in a chroot has no id yet; preflight refuses one at the join
      if (!now) return { state: 'skip', reason: 'no machine-id yet (an image: systemd writes one at first boot)' };
      const text = await ctx.files.read(paths.identityRecord);
      const recorded = parseRecord(text);
      const v = cloneVerdict(recorded, now);
      if (v.kind === 'clone') throw new StepError(`machine identity: ${v.error}`, v.hint);
      if (v.kind === 'same' && v.current) {
        publish(ctx, recorded!);
        return { state: 'ok', message: `machine-id ${now.machineId}, recorded by ${recorded!.by} at ${recorded!.recordedAt}: this machine` };
      }
      // a renamed builder keeps when and by what its id was first recorded
      const next: IdentityRecord = v.kind === 'same' ? { ...recorded!, ...now } : { ...now, recordedAt: new Date().toISOString(), by };
      publish(ctx, next);
      return { state: 'change', message: v.kind === 'record' ? v.reason : 'host name or product_uuid changed', changes: [{ kind: 'file', path: paths.identityRecord, before: text, after: `${JSON.stringify(next, null, 2)}\n` }] };
    },
    async apply(ctx, changes) {
      for (const c of changes) if (c.kind === 'file' && c.after !== null) await ctx.files.write(c.path, c.after, { mode: 0o644, backup: false });
    },
  };
}

function identityNow(ctx: StepContext): MachineIdentity | undefined {
  const id = ctx.facts.machineId;
  if (!id || !/^[0-9a-f]{32}$/.test(id)) return undefined;
  return { machineId: id, productUuid: ctx.facts.productUuid, hostname: ctx.facts.hostname };
}

// A record that does not parse is treated as none: it is rewritten with this machine's.
function parseRecord(text: string | null): IdentityRecord | undefined {
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as Partial<IdentityRecord>;
    if (typeof r.machineId !== 'string' || typeof r.hostname !== 'string' || typeof r.recordedAt !== 'string') return undefined;
    return { machineId: r.machineId, productUuid: typeof r.productUuid === 'string' ? r.productUuid : undefined, hostname: r.hostname, recordedAt: r.recordedAt, by: r.by === 'prepare' ? 'prepare' : 'run' };
  } catch {
    return undefined;
  }
}

function publish(ctx: StepContext, r: IdentityRecord): void {
  const p: MachineIdentityPublished = { machineId: r.machineId, productUuid: r.productUuid, hostname: r.hostname, recordedBy: r.by, recordedAt: r.recordedAt };
  ctx.publish('machineIdentity', p);
}
