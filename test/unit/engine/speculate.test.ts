import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSteps } from '../../../src/engine/engine.js';
import type { CheckResult, Step, StepContext } from '../../../src/engine/step.js';
import { FakeProc, stepContext, tempRoot } from '../../helpers/fakes.js';

// Checks ahead of prerequisites (engine/speculate.ts): used on a converged host, thrown
// away (and invisible) whenever a prerequisite changed something or a published value moved.
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

function chain(log: string[], checks: Record<string, (ctx: StepContext) => Promise<CheckResult>>, applies: Record<string, (ctx: StepContext) => Promise<void>> = {}): Step[] {
  const ids = Object.keys(checks);
  return ids.map((id, i) => ({
    id,
    title: id,
    phase: 'host',
    after: i ? [ids[i - 1]] : undefined,
    async check(ctx) {
      log.push(`${id}:start`);
      await tick();
      const r = await checks[id](ctx);
      log.push(`${id}:end`);
      return r;
    },
    apply: applies[id] ?? (async () => assert.fail(`${id} must not apply`)),
  }));
}

async function run(steps: Step[], speculate: number) {
  const ctx = stepContext(tempRoot().files, new FakeProc());
  const r = await runSteps(steps, ctx, ctx.bus, { mode: 'run', checkOnly: false, concurrency: 2, speculate });
  return { ...r, events: ctx.events, ctx };
}

describe('speculative checks', () => {
  it('check a converged chain side by side and report each step once, in order', async () => {
    const log: string[] = [];
    const ok = async (): Promise<CheckResult> => ({ state: 'ok' });
    const r = await run(chain(log, { a: ok, b: ok, c: ok }), 4);
    assert.deepEqual(r.outcomes.map((o) => `${o.id}=${o.state}`), ['a=ok', 'b=ok', 'c=ok']);
    assert.ok(log.indexOf('c:start') < log.indexOf('a:end'), `c was checked while a still ran: ${log.join(' ')}`);
    assert.equal(log.filter((l) => l === 'c:start').length, 1, 'a used guess is not checked again');
    const ends = r.events.filter((e) => e.type === 'step-end').map((e) => (e as { id: string }).id);
    assert.deepEqual(ends, ['a', 'b', 'c']);
  });

  it('without speculation a chain is checked strictly in turn', async () => {
    const log: string[] = [];
    const ok = async (): Promise<CheckResult> => ({ state: 'ok' });
    await run(chain(log, { a: ok, b: ok, c: ok }), 0);
    assert.deepEqual(log, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  });

  it('re-check a step whose prerequisite changed the host, and hide the stale guess', async () => {
    const log: string[] = [];
    const root = tempRoot();
    let aDone = false;
    const steps = chain(
      log,
      {
        a: async () => (aDone ? { state: 'ok' } : { state: 'change', changes: [{ kind: 'action', description: 'make a' }] }),
        b: async (ctx) => {
          const have = await ctx.files.read('/etc/a');
          if (have === null) ctx.warn('b: guessed too early');
          return have === null ? { state: 'change', changes: [{ kind: 'action', description: 'needs a' }] } : { state: 'ok', message: `a is ${have.trim()}` };
        },
      },
      {
        a: async (ctx) => {
          await ctx.files.write('/etc/a', 'there\n');
          aDone = true;
        },
      },
    );
    const ctx = stepContext(root.files, new FakeProc());
    const r = await runSteps(steps, ctx, ctx.bus, { mode: 'run', checkOnly: false, concurrency: 2, speculate: 4 });
    assert.deepEqual(r.outcomes.map((o) => `${o.id}=${o.state}`), ['a=changed', 'b=ok']);
    assert.equal(r.outcomes[1].message, 'a is there');
    assert.equal(log.filter((l) => l === 'b:start').length, 2, 'guessed, then checked for real');
    assert.deepEqual(ctx.events.filter((e) => e.type === 'warning'), [], 'the discarded guess left no warning');
  });

  it('re-check when a published value it read has changed since', async () => {
    const log: string[] = [];
    const steps = chain(log, {
      ip: async (ctx) => {
        await tick();
        ctx.publish('nodeIP', '10.0.0.7');
        return { state: 'ok' };
      },
      join: async (ctx) => ({ state: 'ok', message: `joined as ${String(ctx.published.nodeIP)}` }),
    });
    const r = await run(steps, 4);
    assert.equal(r.outcomes[1].message, 'joined as 10.0.0.7');
    assert.equal(log.filter((l) => l === 'join:start').length, 2);
    assert.deepEqual(r.events.filter((e) => e.type === 'published').map((e) => (e as { key: string }).key), ['nodeIP']);
  });

  it('replay what a used guess reported, once', async () => {
    const log: string[] = [];
    const steps = chain(log, {
      a: async () => ({ state: 'ok' }),
      b: async (ctx) => {
        ctx.warn('b: heads up');
        ctx.publish('bValue', 42);
        return { state: 'ok' };
      },
    });
    const r = await run(steps, 4);
    assert.deepEqual(r.events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message), ['b: heads up']);
    assert.equal(r.ctx.published.bValue, 42);
    assert.equal(log.filter((l) => l === 'b:start').length, 1);
  });

  it('a guess that threw fails the step like a real check (after the prerequisites passed)', async () => {
    const log: string[] = [];
    const steps = chain(log, {
      a: async () => ({ state: 'ok' }),
      b: async () => {
        throw new Error('b: cannot read /etc/b');
      },
    });
    const r = await run(steps, 4);
    assert.equal(r.outcomes[1].state, 'failed');
    assert.match(r.outcomes[1].message ?? '', /cannot read \/etc\/b/);
    assert.equal(log.filter((l) => l === 'b:start').length, 1);
  });
});

