import { ReadOnlyViolation } from '../host/files.js';
import { redact } from '../host/redact.js';
import type { AgentEvent, EventBus, RunMode } from './events.js';
import { criticalFirst, orderSteps } from './order.js';
import { backoffDelay, sleep } from './retry.js';
import { HostEpoch, speculate, type Speculation } from './speculate.js';
import { StepError, type Change, type CheckResult, type Step, type StepContext, type StepState } from './step.js';

export interface StepOutcome {
  id: string;
  state: StepState;
  attempts: number;
  durationMs: number;
  message?: string;
  hint?: string;
  changes: Change[];
}

export interface RunOptions {
  mode: RunMode;
  /** plan: check only. */
  checkOnly: boolean;
  /** Steps that may run side by side (default 1: strictly sequential). */
  concurrency?: number;
  random?: () => number;
  /** Awaited once, before the first apply() of the run (the agent's "before" snapshot). */
  beforeFirstChange?: () => Promise<void>;
  /** How many checks may run ahead of their prerequisites (speculate.ts); 0: none. Worth
   *  it where checks are expected to pass: a re-run or reconcile of a converged host. */
  speculate?: number;
}

export interface RunResult {
  ok: boolean;
  outcomes: StepOutcome[];
  failedStep?: string;
}

type Ctx = Omit<StepContext, 'progress'>;

// Runs steps in dependency order: check, apply only when needed, check again to verify.
// Stops starting new steps at the first failure of a required step.
export async function runSteps(steps: Step[], ctx: Ctx, bus: EventBus, opts: RunOptions): Promise<RunResult> {
  const ordered = orderSteps(steps);
  const started = Date.now();
  // memoized: two steps applying side by side both wait for the same single call
  const hook = opts.beforeFirstChange;
  let firstChange: Promise<void> | undefined;
  if (hook) opts = { ...opts, beforeFirstChange: () => (firstChange ??= hook()) };
  bus.emit({ type: 'run-start', mode: opts.mode, steps: ordered.map((s) => ({ id: s.id, title: s.title, phase: s.phase })) });
  const outcomes = new Map<string, StepOutcome>();
  const running = new Map<string, Promise<void>>();
  const guesses = new Map<string, Speculation>();
  const guessing = new Set<Promise<unknown>>();
  // guesses still out when the run ends (it stopped early) are cancelled, not awaited
  const endGuesses = new AbortController();
  const guessCtx = { ...ctx, signal: AbortSignal.any([ctx.signal, endGuesses.signal]) };
  const busy = new Set<string>();
  const epoch = new HostEpoch();
  let stopped: string | undefined;
  const limit = Math.max(1, opts.concurrency ?? 1);
  // one at a time keeps the declared (runbook) order
  const schedule = limit > 1 ? criticalFirst(ordered) : ordered;

  const runnable = (s: Step): boolean =>
    !outcomes.has(s.id) &&
    !running.has(s.id) &&
    (s.after ?? []).every((d) => outcomes.has(d)) &&
    (s.resources ?? []).every((r) => !busy.has(r));

  while (outcomes.size < ordered.length) {
    if (!stopped && !ctx.signal.aborted) {
      for (const s of schedule) {
        if (running.size >= limit) break;
        if (!runnable(s)) continue;
        const blocker = (s.after ?? []).find((d) => {
          const o = outcomes.get(d)!;
          return o.state === 'failed' || (o.state === 'skipped' && o.message?.startsWith('not run'));
        });
        if (blocker) {
          record(s, { state: 'skipped', message: `not run: ${blocker} did not finish` });
          continue;
        }
        for (const r of s.resources ?? []) busy.add(r);
        running.set(
          s.id,
          runOne(s, ctx, bus, opts, epoch, guesses.get(s.id) && { guess: guesses.get(s.id)!, prerequisites: (s.after ?? []).map((d) => outcomes.get(d)) }).then((o) => {
            for (const r of s.resources ?? []) busy.delete(r);
            running.delete(s.id);
            outcomes.set(s.id, o);
            if (o.state === 'failed' && !s.optional) stopped = s.id;
          }),
        );
      }
    }
    // spare slots check later steps early; a finished guess frees its slot
    for (const s of stopped || ctx.signal.aborted ? [] : schedule) {
      if (guessing.size >= (opts.speculate ?? 0)) break;
      if (outcomes.has(s.id) || running.has(s.id) || guesses.has(s.id)) continue;
      const g = speculate(s, guessCtx, epoch);
      guesses.set(s.id, g);
      guessing.add(g.settled);
      void g.settled.then(() => guessing.delete(g.settled));
    }
    if (running.size === 0) {
      // nothing running and nothing startable: the rest will not run
      for (const s of ordered) {
        if (!outcomes.has(s.id)) record(s, { state: 'skipped', message: stopped ? `not run: ${stopped} failed` : 'not run: stopped' });
      }
      break;
    }
    await Promise.race([...running.values(), ...guessing]);
  }

  function record(s: Step, o: Pick<StepOutcome, 'state' | 'message'>): void {
    const outcome: StepOutcome = { id: s.id, attempts: 0, durationMs: 0, changes: [], ...o };
    outcomes.set(s.id, outcome);
    bus.emit({ type: 'step-end', ...outcome });
  }

  endGuesses.abort();
  const list = ordered.map((s) => outcomes.get(s.id)!);
  const ok = !list.some((o, i) => o.state === 'failed' && !ordered[i].optional) && !list.some((o) => o.message?.startsWith('not run'));
  bus.emit({ type: 'run-end', mode: opts.mode, ok, durationMs: Date.now() - started, failedStep: stopped });
  return { ok, outcomes: list, failedStep: stopped };
}

interface Early {
  guess: Speculation;
  prerequisites: (StepOutcome | undefined)[];
}

async function runOne(step: Step, base: Ctx, bus: EventBus, opts: RunOptions, epoch: HostEpoch, early?: Early): Promise<StepOutcome> {
  const t0 = Date.now();
  const ctx: StepContext = { ...base, progress: (message) => bus.emit({ type: 'step-progress', id: step.id, message: redact(message) }) };
  const policy = step.retry ?? { attempts: 1, baseMs: 0, maxMs: 0 };
  let attempt = 0;
  for (;;) {
    attempt++;
    bus.emit({ type: 'step-start', id: step.id, attempt });
    try {
      const outcome = await attemptOnce(step, ctx, bus, opts, epoch, attempt === 1 ? early : undefined);
      const end: StepOutcome = { id: step.id, attempts: attempt, durationMs: Date.now() - t0, ...outcome };
      bus.emit({ type: 'step-end', ...end });
      return end;
    } catch (e) {
      const { message, hint, retryable } = describeError(e);
      if (retryable && attempt < policy.attempts && !base.signal.aborted) {
        const delayMs = backoffDelay(policy, attempt, opts.random);
        bus.emit({ type: 'step-retry', id: step.id, attempt, delayMs, error: message, hint });
        await sleep(delayMs, base.signal);
        continue;
      }
      const end: StepOutcome = { id: step.id, state: 'failed', attempts: attempt, durationMs: Date.now() - t0, message, hint, changes: [] };
      bus.emit({ type: 'step-end', ...end });
      return end;
    }
  }
}

async function attemptOnce(step: Step, ctx: StepContext, bus: EventBus, opts: RunOptions, epoch: HostEpoch, early?: Early): Promise<Pick<StepOutcome, 'state' | 'message' | 'hint' | 'changes'>> {
  const before = (early && (await early.guess.use(ctx, early.prerequisites))) ?? (await step.check(ctx));
  bus.emit({ type: 'step-checked', id: step.id, result: before });
  if (before.state === 'skip') return { state: 'skipped', message: before.reason, changes: [] };
  if (before.state === 'ok') return { state: 'ok', message: before.message, changes: [] };
  if (opts.checkOnly) return { state: 'changed', message: before.message ?? 'would change', changes: before.changes };
  await opts.beforeFirstChange?.();
  await epoch.around(() => step.apply(ctx, before.changes));
  const after: CheckResult = step.verify ? await step.verify(ctx) : await step.check(ctx);
  if (after.state === 'change') {
    const what = after.changes.map(describeChange).join('; ');
    throw new StepError(`applied, but the host still differs: ${what}`, 'something else on this host may be reverting the change (config management, cloud-init); see the step message', false);
  }
  return { state: 'changed', message: before.message ?? summarize(before.changes), changes: before.changes };
}

export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'file':
      return c.after === null ? `remove ${c.path}` : c.before === null ? `create ${c.path}` : `edit ${c.path}`;
    case 'value':
      return `${c.name}: ${c.live} -> ${c.wanted}`;
    case 'action':
      return c.description;
  }
}

function summarize(changes: Change[]): string {
  return changes.map(describeChange).join('; ');
}

function describeError(e: unknown): { message: string; hint?: string; retryable: boolean } {
  if (e instanceof StepError) return { message: redact(e.message), hint: e.hint && redact(e.hint), retryable: e.retryable };
  if (e instanceof ReadOnlyViolation) return { message: e.message, retryable: false };
  const err = e as NodeJS.ErrnoException;
  const disk = diskHint(err);
  if (disk) return { message: redact(err.message), hint: disk, retryable: false };
  return { message: redact(err?.message ?? String(e)), retryable: false };
}

export type { AgentEvent };

// A full or read-only disk is the operator's to fix, not a step bug: say which filesystem.
// Not retried inside the step (it will not free itself in seconds); the daemon retries the run.
export function diskHint(err: NodeJS.ErrnoException | undefined): string | undefined {
  const where = err?.path ? ` holding ${err.path}` : '';
  const df = err?.path ? ` (df -h ${err.path.replace(/\/[^/]*$/, '') || '/'})` : '';
  switch (err?.code) {
    case 'ENOSPC':
      return `the filesystem${where} is full${df}: free space there, then re-run; joinagent kept the previous version of every file it was writing`;
    case 'EDQUOT':
      return `the disk quota on the filesystem${where} is exhausted${df}: raise it or free space, then re-run`;
    case 'EROFS':
      return `the filesystem${where} is mounted read-only: remount it read-write, then re-run`;
    default:
      return undefined;
  }
}
