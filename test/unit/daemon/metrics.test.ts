import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { reconcileOnce } from '../../../src/agent/reconcile.js';
import { StepError } from '../../../src/engine/step.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prom-text.js';
import { MANAGED, testSteps, world } from './fixture.js';

function get(port: number, p: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, headers: { host: 'localhost' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

test('GET /metrics: valid Prometheus text with step state, duration, attempts, join time, drift, build info', async () => {
  const w = await world({ serve: true, kubeletActive: false, config: { status: { address: '127.0.0.1:19761' } } });
  try {
    await w.agent.converge('run');
    writeFileSync(path.join(w.root, MANAGED), 'tampered\n');
    await reconcileOnce(w.agent);
    const r = await get(19761, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    const m = parsePrometheusText(r.body);

    assert.equal(sampleValue(m, 'joinagent_build_info', { version: '0.0.0-dev', commit: 'dev' }), 1);
    assert.equal(sampleValue(m, 'joinagent_step_state', { step: 'kubelet-running', state: 'changed' }), 1);
    assert.equal(sampleValue(m, 'joinagent_step_state', { step: 'kubelet-running', state: 'failed' }), 0);
    assert.equal(m.get('joinagent_step_state')!.samples.filter((s) => s.value === 1).length, 3, 'exactly one state per step');
    assert.equal(sampleValue(m, 'joinagent_step_attempts', { step: 'join' }), 1);
    assert.ok(sampleValue(m, 'joinagent_step_duration_seconds', { step: 'join' })! >= 0);
    assert.equal(m.get('joinagent_step_duration_seconds')!.type, 'gauge');
    assert.equal(sampleValue(m, 'joinagent_ready'), 1);
    const joinedAt = sampleValue(m, 'joinagent_join_completed_timestamp_seconds')!;
    assert.ok(Math.abs(joinedAt - Date.now() / 1000) < 60, `join timestamp ${joinedAt} is now`);
    assert.equal(sampleValue(m, 'joinagent_runs_total', { mode: 'run', result: 'ok' }), 1);
    assert.equal(sampleValue(m, 'joinagent_runs_total', { mode: 'reconcile', result: 'ok' }), 1);
    assert.equal(sampleValue(m, 'joinagent_drift_detected_total', { step: 'managed-file' }), 1);
    assert.equal(sampleValue(m, 'joinagent_drift_repairs_total', { step: 'managed-file' }), 1);
    assert.equal(sampleValue(m, 'joinagent_drifted_steps'), 0);
    assert.equal(m.get('joinagent_drift_repairs_total')!.type, 'counter');
    assert.ok(sampleValue(m, 'process_resident_memory_bytes')! > 0, 'process metrics');
    assert.ok(!/abcdef\.|0123456789abcdef/.test(r.body), 'no token anywhere');
  } finally {
    await w.cleanup();
  }
});

test('a failed run shows in step state and run counters; step messages (which may name secrets) never become labels', async () => {
  const w = await world({
    serve: true,
    config: { status: { address: '127.0.0.1:19762' } },
    steps: (wd) => {
      const [file, kubelet, join] = testSteps(wd);
      join.apply = async () => {
        throw new StepError('token abcdef.0123456789abcdef rejected', undefined, false);
      };
      return [file, kubelet, join];
    },
  });
  try {
    await w.agent.converge('run');
    const m = parsePrometheusText((await get(19762, '/metrics')).body);
    assert.equal(sampleValue(m, 'joinagent_step_state', { step: 'join', state: 'failed' }), 1);
    assert.equal(sampleValue(m, 'joinagent_runs_total', { mode: 'run', result: 'failed' }), 1);
    assert.equal(sampleValue(m, 'joinagent_ready'), 0);
    assert.equal(sampleValue(m, 'joinagent_join_completed_timestamp_seconds'), 0);
    for (const f of m.values()) for (const s of f.samples) for (const v of Object.values(s.labels)) assert.ok(!v.includes('0123456789abcdef'));
  } finally {
    await w.cleanup();
  }
});

test('the test parser rejects what Prometheus rejects', () => {
  const ok = '# HELP a_total x\n# TYPE a_total counter\na_total{s="1"} 2\n';
  assert.equal(parsePrometheusText(ok).get('a_total')!.samples[0].value, 2);
  const bad: [string, RegExp][] = [
    ['# TYPE a gauge\na 1', /newline/],
    ['a 1\n', /without a TYPE/],
    ['# TYPE a gauge\na{s="1"} x\n', /bad value/],
    ['# TYPE a gauge\na{s="1} 1\n', /bad label set|not a sample/],
    ['# TYPE a gauge\na{1s="1"} 1\n', /bad label name/],
    ['# TYPE a gauge\na 1\na 2\n', /duplicate series/],
    ['# TYPE a gauge\na{x="1"} 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n', /two separate groups/],
    ['# TYPE a counter\na -1\n', /negative/],
    ['# TYPE a gauge\n# TYPE a gauge\n', /second TYPE/],
  ];
  for (const [text, err] of bad) assert.throws(() => parsePrometheusText(text), err, JSON.stringify(text));
});
