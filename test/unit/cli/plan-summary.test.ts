import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planSummary, renderPlan } from '../../../src/cli/plan-output.js';
import type { StepOutcome } from '../../../src/engine/engine.js';

const o = (id: string, state: StepOutcome['state'], extra: Partial<StepOutcome> = {}): StepOutcome => ({ id, state, attempts: 1, durationMs: 1, changes: [], ...extra });

test('plan summary: nothing to change only when every check passed', () => {
  assert.equal(planSummary([o('a', 'ok'), o('b', 'ok')]), 'plan: everything is ok; a run would change nothing');
  assert.equal(planSummary([o('a', 'changed'), o('b', 'ok')]), 'plan: 1 step would change');
  assert.equal(planSummary([o('a', 'ok'), o('images', 'failed')]), 'plan: 1 check failed (images)');
  assert.equal(planSummary([o('a', 'changed'), o('b', 'changed'), o('images', 'failed'), o('join', 'failed')]), 'plan: 2 checks failed (images, join); 2 steps would change');
});

test('renderPlan ends with the summary, the failed step\'s hint under it', () => {
  const text = renderPlan([o('preflight', 'ok'), o('images', 'failed', { message: 'no CRI', hint: 'see containerd-config' })], new Map([['images', 'images']]));
  assert.match(text, /^images +failed +images \(no CRI\)\n +hint: see containerd-config$/m);
  assert.match(text, /\nplan: 1 check failed \(images\)\n$/);
  assert.doesNotMatch(text, /everything is ok/);
});
