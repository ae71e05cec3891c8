import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderStatus } from '../../../src/cli/commands/status.js';
import { runSteps } from '../../../src/engine/engine.js';
import { EventBus } from '../../../src/engine/events.js';
import { StepError, type Step } from '../../../src/engine/step.js';
import { StatusModel } from '../../../src/status/model.js';
import { debianFacts, FakeProc, stepContext, tempRoot } from '../../helpers/fakes.js';

// A filtered API server port makes discovery retry for minutes: while it does, /status
// and `joinagent status` must already say what to check, not only after the last attempt.
test('a retrying step shows its hint in /status and in joinagent status', async () => {
  const ctx = stepContext(tempRoot().files, new FakeProc());
  const bus = new EventBus();
  const model = new StatusModel(bus, debianFacts, { version: '0', commit: 'x', pid: 1, startedAt: 'now', config: 'c' });
  let seen: { message?: string; hint?: string; text: string } | undefined;
  let calls = 0;
  const step: Step = {
    id: 'discovery', title: 'discovery', phase: 'join', retry: { attempts: 2, baseMs: 1, maxMs: 1 },
    check: async () => (calls >= 2 ? { state: 'ok' } : { state: 'change', changes: [{ kind: 'action', description: 'discover' }] }),
    apply: async () => {
      calls++;
      // the second attempt sees what /status showed after the first one failed
      if (calls === 2) {
        const s = model.doc.steps.find((x) => x.id === 'discovery')!;
        seen = { message: s.message, hint: s.hint, text: renderStatus(model.doc) };
        return;
      }
      throw new StepError('connection to 10.0.0.1:6443 timed out: the port is filtered', 'check firewalld on the control plane', true);
    },
  };
  const r = await runSteps([step], ctx, bus, { mode: 'run', checkOnly: false, random: () => 0.5 });
  assert.equal(r.outcomes[0]!.state, 'changed');
  assert.match(seen?.message ?? '', /attempt 1 failed, retrying .*filtered/);
  assert.equal(seen?.hint, 'check firewalld on the control plane');
  assert.match(seen!.text, /^ +hint: check firewalld on the control plane$/m);
  assert.equal(model.doc.steps[0]!.hint, undefined, 'the hint goes once the step succeeds');
});
