import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSteps } from '../../../src/engine/engine.js';
import { EventBus, type AgentEvent } from '../../../src/engine/events.js';
import { criticalFirst, orderSteps } from '../../../src/engine/order.js';
import { backoffDelay } from '../../../src/engine/retry.js';
import { StepError, type Step, type StepContext } from '../../../src/engine/step.js';
import { hostFiles } from '../../../src/host/files.js';
import { FakeProc, stepContext, tempRoot } from '../../helpers/fakes.js';

// A step over one file: wants `want` in it; counts applies.
function fileStep(id: string, p: string, want: string, extra: Partial<Step> = {}): Step & { applies: number } {
  const s = {
    id,
    title: `file ${p}`,
    phase: 'host' as const,
    applies: 0,
    async check(ctx: StepContext) {
      const have = await ctx.files.read(p);
      return have === want ? { state: 'ok' as const } : { state: 'change' as const, changes: [{ kind: 'file' as const, path: p, before: have, after: want }] };
    },
    async apply(ctx: StepContext) {
      s.applies++;
      await ctx.files.write(p, want);
    },
    ...extra,
  };
  return s;
}

function run(steps: Step[], files = tempRoot().files, checkOnly = false, proc = new FakeProc(checkOnly)) {
  const ctx = stepContext(files, proc);
  const bus = new EventBus();
  const events: AgentEvent[] = [];
  bus.on((e) => events.push(e));
  return runSteps(steps, { ...ctx, dryRun: checkOnly }, bus, { mode: checkOnly ? 'plan' : 'run', checkOnly, random: () => 0.5 }).then((r) => ({ ...r, events }));
}

describe('engine', () => {
  it('orders by dependencies, keeping declaration order otherwise', () => {
    const mk = (id: string, after?: string[]) => ({ id, title: id, phase: 'host' as const, after, check: async () => ({ state: 'ok' as const }), apply: async () => {} });
    assert.deepEqual(orderSteps([mk('c', ['b']), mk('a'), mk('b', ['a']), mk('d')]).map((s) => s.id), ['a', 'b', 'c', 'd']);
    assert.throws(() => orderSteps([mk('x', ['y']), mk('y', ['x'])]), /cycle/);
    assert.throws(() => orderSteps([mk('x', ['nope'])]), /unknown step nope/);
  });

  it('applies only what check finds, verifies, and a second run is all ok with no apply', async () => {
    const { files, cleanup } = tempRoot();
    try {
      const a = fileStep('a', '/etc/a.conf', 'A\n');
      const b = fileStep('b', '/etc/b.conf', 'B\n', { after: ['a'] });
      const first = await run([b, a], files);
      assert.equal(first.ok, true);
      assert.deepEqual(first.outcomes.map((o) => [o.id, o.state]), [['a', 'changed'], ['b', 'changed']]);
      assert.equal(await files.read('/etc/b.conf'), 'B\n');
      const second = await run([b, a], files);
      assert.deepEqual(second.outcomes.map((o) => o.state), ['ok', 'ok']);
      assert.equal(a.applies + b.applies, 2, 'no apply on the second run');
    } finally {
      cleanup();
    }
  });

  it('plan (check only) reports would-change with the diff and changes nothing', async () => {
    const { files, root, cleanup } = tempRoot();
    try {
      const ro = hostFiles(root, true);
      const a = fileStep('a', '/etc/a.conf', 'A\n');
      const r = await run([a], ro, true);
      assert.equal(r.outcomes[0].state, 'changed');
      assert.deepEqual(r.outcomes[0].changes, [{ kind: 'file', path: '/etc/a.conf', before: null, after: 'A\n' }]);
      assert.equal(await files.exists('/etc/a.conf'), false);
      assert.equal(a.applies, 0);
      // and a step that tries to write during check is stopped by the read-only files
      const sneaky: Step = { id: 's', title: 's', phase: 'host', check: async (ctx) => (await ctx.files.write('/etc/x', 'x'), { state: 'ok' }), apply: async () => {} };
      const r2 = await run([sneaky], ro, true);
      assert.equal(r2.outcomes[0].state, 'failed');
      assert.match(r2.outcomes[0].message ?? '', /read-only mode/);
      assert.equal(await files.exists('/etc/x'), false);
    } finally {
      cleanup();
    }
  });

  it('stops at the first failure of a required step; optional failures do not stop', async () => {
    const failing = (id: string, optional = false): Step => ({ id, title: id, phase: 'host', optional, check: async () => ({ state: 'change', changes: [{ kind: 'action', description: 'x' }] }), apply: async () => { throw new StepError(`${id} broke`, `fix ${id}`); } });
    const later = fileStep('later', '/etc/later', 'L');
    const r = await run([failing('opt', true), failing('req'), later]);
    assert.equal(r.ok, false);
    assert.equal(r.failedStep, 'req');
    const by = Object.fromEntries(r.outcomes.map((o) => [o.id, o]));
    assert.equal(by.opt.state, 'failed');
    assert.equal(by.req.state, 'failed');
    assert.equal(by.req.hint, 'fix req');
    assert.equal(by.later.state, 'skipped');
    assert.match(by.later.message ?? '', /not run: req failed/);
    assert.equal(later.applies, 0);
  });

  it('retries retryable errors with capped exponential backoff, then succeeds', async () => {
    let calls = 0;
    const flaky: Step = {
      id: 'flaky', title: 'flaky', phase: 'images', retry: { attempts: 4, baseMs: 10, maxMs: 25 },
      check: async () => (calls >= 3 ? { state: 'ok' } : { state: 'change', changes: [{ kind: 'action', description: 'pull' }] }),
      apply: async () => {
        calls++;
        if (calls < 3) throw new StepError('registry said 503', 'retrying', true);
      },
    };
    const r = await run([flaky]);
    assert.equal(r.outcomes[0].state, 'changed');
    assert.equal(r.outcomes[0].attempts, 3);
    const retries = r.events.filter((e) => e.type === 'step-retry');
    assert.deepEqual(retries.map((e) => (e as { delayMs: number }).delayMs), [8, 15]); // 10 then 20 (cap 25), jitter 0.5 -> 3/4 of cap
  });

  it('gives up after the last attempt and does not retry non-retryable errors', async () => {
    let n = 0;
    const s: Step = { id: 's', title: 's', phase: 'join', retry: { attempts: 3, baseMs: 1, maxMs: 2 }, check: async () => ({ state: 'change', changes: [] }), apply: async () => { n++; throw new StepError('down', undefined, true); } };
    const r = await run([s]);
    assert.equal(r.outcomes[0].attempts, 3);
    assert.equal(n, 3);
    let m = 0;
    const t: Step = { ...s, id: 't', apply: async () => { m++; throw new StepError('bad input', undefined, false); } };
    await run([t]);
    assert.equal(m, 1);
  });

  it('backoff is capped and jittered within [cap/2, cap]', () => {
    const p = { attempts: 10, baseMs: 100, maxMs: 1000 };
    assert.equal(backoffDelay(p, 1, () => 0), 50);
    assert.equal(backoffDelay(p, 1, () => 1), 100);
    assert.equal(backoffDelay(p, 8, () => 1), 1000);
    assert.equal(backoffDelay(p, 8, () => 0), 500);
  });

  it('fails a step whose apply does not converge, with a hint', async () => {
    const stubborn: Step = { id: 'st', title: 'st', phase: 'host', check: async () => ({ state: 'change', changes: [{ kind: 'value', name: 'vm.swappiness', live: '60', wanted: '0' }] }), apply: async () => {} };
    const r = await run([stubborn]);
    assert.equal(r.outcomes[0].state, 'failed');
    assert.match(r.outcomes[0].message ?? '', /still differs: vm.swappiness: 60 -> 0/);
    assert.ok(r.outcomes[0].hint);
  });

  it('runs independent steps side by side but never two sharing a resource', async () => {
    let active = 0;
    let peak = 0;
    let pkgActive = 0;
    const slow = (id: string, resources?: string[]): Step => ({
      id, title: id, phase: 'host', resources,
      check: async () => ({ state: 'ok' }),
      async apply() {},
      verify: undefined,
    });
    const timed = (id: string, resources?: string[]): Step => ({
      ...slow(id, resources),
      async check() {
        active++;
        if (resources) pkgActive++;
        peak = Math.max(peak, active);
        assert.ok(pkgActive <= 1, 'two package steps at once');
        await new Promise((r) => setTimeout(r, 20));
        active--;
        if (resources) pkgActive--;
        return { state: 'ok' };
      },
    });
    const ctx = stepContext(tempRoot().files, new FakeProc());
    await runSteps([timed('p1', ['pkg']), timed('p2', ['pkg']), timed('x')], ctx, new EventBus(), { mode: 'run', checkOnly: false, concurrency: 2 });
    assert.equal(peak, 2);
  });

  it('starts the head of the longest chain first when steps run side by side', async () => {
    const step = (id: string, after?: string[]): Step => ({ id, title: id, phase: 'host', after, check: async () => ({ state: 'ok' }), async apply() {} });
    // runbook order: quick independent steps first, the package install late
    const steps = [step('time'), step('swap'), step('hosts'), step('packages', ['hosts']), step('config', ['packages']), step('images', ['config']), step('join', ['time', 'swap', 'hosts', 'packages', 'config', 'images'])];
    assert.deepEqual(criticalFirst(orderSteps(steps)).map((s) => s.id), ['hosts', 'packages', 'config', 'time', 'swap', 'images', 'join']);
    const started: string[] = [];
    const bus = new EventBus();
    bus.on((e) => void (e.type === 'step-start' && started.push(e.id)));
    const ctx = stepContext(tempRoot().files, new FakeProc());
    const r = await runSteps(steps, ctx, bus, { mode: 'run', checkOnly: false, concurrency: 2 });
    assert.deepEqual(started.slice(0, 2), ['hosts', 'time'], 'hosts and the next free step take the two slots');
    assert.ok(started.indexOf('packages') < started.indexOf('swap'), `packages starts before quick steps that nothing waits on: ${started.join(' ')}`);
    assert.deepEqual(r.outcomes.map((o) => o.id), steps.map((s) => s.id), 'results keep the declared order');
    // one at a time keeps the declared order
    const seq: string[] = [];
    const bus1 = new EventBus();
    bus1.on((e) => void (e.type === 'step-start' && seq.push(e.id)));
    await runSteps(steps, ctx, bus1, { mode: 'run', checkOnly: false, concurrency: 1 });
    assert.deepEqual(seq, steps.map((s) => s.id));
  });

  it('never lets a secret into step messages', async () => {
    const { registerSecret } = await import('../../../src/host/redact.js');
    registerSecret('abcdef.0123456789abcdef');
    const s: Step = { id: 's', title: 's', phase: 'join', check: async () => ({ state: 'change', changes: [] }), apply: async () => { throw new Error('kubeadm join --token abcdef.0123456789abcdef failed'); } };
    const r = await run([s]);
    assert.doesNotMatch(JSON.stringify(r.events), /0123456789abcdef/);
    assert.match(r.outcomes[0].message ?? '', /abcdef\.<redacted>/);
  });
});
