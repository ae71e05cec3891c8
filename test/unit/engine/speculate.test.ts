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


// Issue 17 item 1: a guess taken before some step changed the host describes a host that
// no longer exists, whichever step changed it: a -> b -> c where a's apply breaks what c
// checks (containerd-config restarting containerd under node-ready's guess).
describe('speculative checks and host changes elsewhere in the chain', () => {
  it('a guess started before a prerequisite-of-a-prerequisite changed the host is not used', async () => {
    const log: string[] = [];
    let healthy = true;
    // a decides only once c's guess has looked (the guess is taken before the change)
    let guessed!: () => void;
    const cLooked = new Promise<void>((r) => (guessed = r));
    const steps = chain(
      log,
      {
        a: async () => {
          await cLooked;
          return healthy ? { state: 'change', changes: [{ kind: 'action', description: 'rewrite config, restart' }] } : { state: 'ok' };
        },
        b: async () => ({ state: 'ok' }),
        c: async () => {
          guessed();
          return healthy ? { state: 'ok', message: 'Ready' } : { state: 'change', changes: [{ kind: 'action', description: 'wait for Ready again' }] };
        },
      },
      {
        a: async () => {
          healthy = false; // the restart a's apply makes breaks what c observed
        },
        c: async () => {
          healthy = true;
        },
      },
    );
    const r = await run(steps, 4);
    assert.deepEqual(r.outcomes.map((o) => `${o.id}=${o.state}`), ['a=changed', 'b=ok', 'c=changed'], `c must be checked again after a changed the host: ${log.join(' ')}`);
  });

  it('a guess that threw while another step restarted something is checked again, not a failure', async () => {
    const log: string[] = [];
    let restarting = false;
    let applyStarted!: () => void;
    const started = new Promise<void>((r) => (applyStarted = r));
    let aDone = false;
    const steps = chain(
      log,
      {
        a: async () => (aDone ? { state: 'ok' } : { state: 'change', changes: [{ kind: 'action', description: 'restart the runtime' }] }),
        b: async () => ({ state: 'ok' }),
        c: async () => {
          if (!aDone) await started;
          if (restarting) throw new Error('c: connection refused (the runtime is restarting)');
          return { state: 'ok' };
        },
      },
      {
        a: async () => {
          restarting = true;
          applyStarted();
          await tick();
          await tick();
          restarting = false;
          aDone = true;
        },
      },
    );
    const r = await run(steps, 4);
    assert.deepEqual(r.outcomes.map((o) => `${o.id}=${o.state}`), ['a=changed', 'b=ok', 'c=ok'], `${r.outcomes[2].message ?? ''} / ${log.join(' ')}`);
  });

  it('a guess started while an independent step applies is not used either', async () => {
    // x and c are independent; c's guess overlaps x's apply, which moves what c reads
    let value = 'old';
    const x: Step = {
      id: 'x',
      title: 'x',
      phase: 'host',
      check: async () => (value === 'new' ? { state: 'ok' } : { state: 'change', changes: [{ kind: 'action', description: 'set new' }] }),
      apply: async () => {
        await tick();
        value = 'new';
      },
    };
    const a: Step = { id: 'a', title: 'a', phase: 'host', after: ['x'], check: async () => ({ state: 'ok' }), apply: async () => assert.fail('a must not apply') };
    const c: Step = {
      id: 'c',
      title: 'c',
      phase: 'host',
      after: ['a'],
      check: async () => ({ state: 'ok', message: `saw ${value}` }),
      apply: async () => assert.fail('c must not apply'),
    };
    const r = await run([x, a, c], 4);
    assert.equal(r.outcomes.find((o) => o.id === 'c')?.message, 'saw new');
  });
});
