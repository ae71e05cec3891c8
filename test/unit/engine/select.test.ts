import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectSteps, UnknownStep } from '../../../src/engine/select.js';
import type { Step } from '../../../src/engine/step.js';

const mk = (id: string, after?: string[]): Step => ({ id, title: id, phase: 'host', after, check: async () => ({ state: 'change', changes: [] }), apply: async () => undefined });
const steps = [mk('swap'), mk('packages'), mk('crictl', ['packages']), mk('images', ['crictl'])];

describe('step selection', () => {
  it('--only keeps the listed steps and drops dependencies on the others', () => {
    const s = selectSteps(steps, { only: ['crictl', 'images'] });
    assert.deepEqual(s.map((x) => [x.id, x.after]), [['crictl', []], ['images', ['crictl']]]);
  });
  it('--skip reports the step as skipped without running it', async () => {
    const s = selectSteps(steps, { skip: ['packages'] });
    assert.equal(s.length, 4);
    assert.deepEqual(await s[1].check({} as never), { state: 'skip', reason: 'skipped with --skip' });
    assert.deepEqual(s[2].after, ['packages'], 'dependents still wait for it (a skip satisfies them)');
  });
  it('unknown ids are refused with the list of real ones', () => {
    assert.throws(() => selectSteps(steps, { only: ['swapp'] }), (e: unknown) => e instanceof UnknownStep && /unknown step "swapp"; steps are: swap, packages, crictl, images/.test(e.message));
  });
});
