import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from '../../../src/engine/events.js';
import { registerSecret } from '../../../src/host/redact.js';
import { StatusModel } from '../../../src/status/model.js';
import { debianFacts } from '../../helpers/fakes.js';

// /status serves a cached JSON text: it must equal the document, follow every event,
// carry fresh live values on each request and never hold a secret.
function model(): { bus: EventBus; m: StatusModel } {
  const bus = new EventBus();
  const m = new StatusModel(bus, debianFacts, { version: '1', commit: 'c', pid: 1, startedAt: 'now', config: '/c.yaml' });
  return { bus, m };
}

test('json() is the redacted document, with live values fresh per call', () => {
  const { bus, m } = model();
  let n = 0;
  m.live = () => ({ eventLoopDelayMs: { p50: ++n, p99: 2, max: 3 } });
  bus.emit({ type: 'run-start', mode: 'run', steps: [{ id: 'swap', title: 'Swap off', phase: 'host' }] });
  const a = JSON.parse(m.json());
  const b = JSON.parse(m.json());
  assert.equal(b.agent.eventLoopDelayMs.p50, a.agent.eventLoopDelayMs.p50 + 1);
  const snap = JSON.parse(JSON.stringify(m.snapshot()));
  delete a.agent.eventLoopDelayMs;
  delete snap.agent.eventLoopDelayMs;
  assert.deepEqual(a, snap);
});

test('json() follows events and invalidate()', () => {
  const { bus, m } = model();
  bus.emit({ type: 'run-start', mode: 'run', steps: [{ id: 'swap', title: 'Swap off', phase: 'host' }] });
  assert.equal(JSON.parse(m.json()).steps[0].state, 'pending');
  bus.emit({ type: 'step-start', id: 'swap', attempt: 1 });
  assert.equal(JSON.parse(m.json()).steps[0].state, 'running');
  m.doc.node.cpus = 64;
  m.invalidate();
  assert.equal(JSON.parse(m.json()).node.cpus, 64);
  assert.equal(JSON.parse(m.json()).agent.eventLoopDelayMs, undefined, 'no live values: no field, valid JSON');
});

test('json() never holds a registered secret nor a token secret', () => {
  const { bus, m } = model();
  registerSecret('s3cr3t-password-x');
  bus.emit({ type: 'warning', message: 'join with abcdef.0123456789abcdef failed, s3cr3t-password-x' });
  const text = m.json();
  assert.ok(!text.includes('0123456789abcdef') && !text.includes('s3cr3t-password-x'), text);
  assert.match(text, /abcdef\.<redacted>/);
});

test('node IPs: a dual-stack --node-ip shows as the primary nodeIP and both nodeIPs', () => {
  const { bus, m } = model();
  bus.emit({ type: 'published', key: 'nodeIP', value: '198.18.0.2,fd6a:6f69:6e00:1::2' });
  const node = JSON.parse(m.json()).node;
  assert.equal(node.nodeIP, '198.18.0.2');
  assert.deepEqual(node.nodeIPs, ['198.18.0.2', 'fd6a:6f69:6e00:1::2']);
});
