import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptsToWait, backoffDelay } from '../../../src/engine/retry.js';

// join.waitForReady is a time; node-ready and kube-proxy wait it out in retries. The
// retries' waits, at their average (the jitter's middle), add up to it: no less (12 s
// used to give about 4 s), and not a whole wait more.
describe('attemptsToWait', () => {
  const policy = { baseMs: 1000, maxMs: 4000 };
  const waited = (attempts: number): number => Array.from({ length: attempts - 1 }, (_, i) => backoffDelay({ ...policy, attempts }, i + 1, () => 0.5)).reduce((a, b) => a + b, 0);
  for (const waitMs of [1000, 12_000, 30_000, 120_000, 600_000]) {
    it(`${waitMs / 1000} s`, () => {
      const n = attemptsToWait(waitMs, policy);
      assert.ok(waited(n) >= waitMs, `${n} attempts wait ${waited(n)} ms on average, less than ${waitMs}`);
      assert.ok(waited(n - 1) < waitMs, `${n - 1} attempts would already wait ${waited(n - 1)} ms`);
    });
  }
  it('0 s: one check, no retry', () => assert.equal(attemptsToWait(0, policy), 1));
});
