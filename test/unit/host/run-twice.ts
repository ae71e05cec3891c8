import assert from 'node:assert/strict';
import type { CheckResult, Step, StepContext } from '../../../src/engine/step.js';
import type { FakeProc } from '../../helpers/fakes.js';

// The engine's contract for one step, without the engine: check, apply what it found,
// check again (must be ok), then a fresh second run must be ok and run nothing.
export async function runTwice(step: Step, ctx: StepContext, proc: FakeProc): Promise<{ first: CheckResult; second: CheckResult }> {
  const first = await step.check(ctx);
  if (first.state === 'change') {
    await step.apply(ctx, first.changes);
    const verify = await step.check(ctx);
    assert.equal(verify.state, 'ok', `${step.id} still differs after apply: ${JSON.stringify(verify)}`);
  }
  proc.reset();
  const second = await step.check(ctx);
  assert.notEqual(second.state, 'change', `${step.id} second run would change: ${JSON.stringify(second)}`);
  assert.deepEqual(proc.runs(), [], `${step.id}: the second run ran changing commands`);
  return { first, second };
}

export function warnings(ctx: { events: { type: string }[] }): string[] {
  return ctx.events.filter((e): e is { type: 'warning'; message: string } => e.type === 'warning').map((e) => e.message);
}
