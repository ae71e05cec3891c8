import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentRetries, busiestWindow, percentile, sender, summarizeLoad } from '../../../bench/fleet-stats.js';

test('fleet stats: who sent what, the busiest windows, percentiles', () => {
  assert.equal(percentile([5, 1, 3, 2, 4], 95), 5);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 95), 19);
  assert.equal(sender({ userAgent: 'joinagent', method: 'GET', path: '/version' }), 'agent');
  assert.equal(sender({ userAgent: 'curl/7.88.1', method: 'POST', path: '/api/v1/nodes' }), 'kubelet');
  assert.equal(sender({ userAgent: 'curl/7.88.1', method: 'PATCH', path: '/api/v1/nodes/w1/status' }), 'kubelet');
  assert.equal(sender({ userAgent: 'curl/7.88.1', method: 'POST', path: '/apis/certificates.k8s.io/v1/certificatesigningrequests' }), 'kubelet');
  // twenty retries due in the same instant are a storm; spread over seconds they are not
  assert.equal(busiestWindow(Array.from({ length: 20 }, () => 1000), 500), 20);
  assert.equal(busiestWindow(Array.from({ length: 20 }, (_, i) => i * 600), 500), 1);
  const log = [0, 50, 60, 1500].map((at, i) => ({ at, method: 'GET', path: '/version', userAgent: i ? 'joinagent' : 'curl/8', code: i === 2 ? 429 : 200, lane: 'shared' }));
  const s = summarizeLoad(log, 0, 2000);
  assert.equal(s.requests, 4);
  assert.equal(s.peakPerSecond, 3);
  assert.deepEqual(s.bySender, { kubeadm: { requests: 1, throttled: 0 }, agent: { requests: 3, throttled: 1 } });
  assert.deepEqual(s.perHalfSecond, [3, 0, 0, 1]);
  assert.deepEqual(s.throttledPerHalfSecond, [1, 0, 0, 0]);
  const t0 = Date.parse('2026-12-02T10:00:00.000Z');
  const out = [
    '{"time":"2026-12-02T10:00:01.000Z","event":"step-progress","step":"discovery","msg":"discovery: the API server answered 429 to /version (attempt 1): trying again in 1.5 s, as its Retry-After asks"}',
    '{"time":"2026-12-02T10:00:02.000Z","event":"step-retry","step":"node-ready","delayMs":700}',
    'not json',
  ].join('\n');
  assert.deepEqual(agentRetries(out, t0), { retryAfterWaits: 1, stepRetries: 1, dueAtMs: [2500, 2700] });
});

test('a join splits at discovery: its step-end time minus its duration', async () => {
  const { phaseSplit } = await import('../../../bench/fleet-stats.js');
  const t0 = Date.parse('2026-12-02T10:00:00.000Z');
  const out = '{"time":"2026-12-02T10:00:03.500Z","event":"step-end","step":"discovery","durationMs":500}\n';
  assert.deepEqual(phaseSplit(out, t0, 5000), { localS: 3, apiS: 2 });
});
