import assert from 'node:assert/strict';
import type http from 'node:http';
import { test } from 'node:test';
import { EventBus, type AgentEvent } from '../../../src/engine/events.js';
import { countsForMetrics, lazyMetrics } from '../../../src/status/lazy-metrics.js';
import { StatusModel } from '../../../src/status/model.js';
import { debianFacts } from '../../helpers/fakes.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prom-text.js';

// What the route writes, without a socket.
async function scrape(route: (res: http.ServerResponse) => Promise<void>): Promise<string> {
  let body = '';
  await route({ writeHead: () => undefined, end: (t: string) => (body = t) } as unknown as http.ServerResponse);
  return body;
}

const reconcilePass = (ok: boolean): AgentEvent[] => [
  { type: 'run-start', mode: 'reconcile', steps: [{ id: 'swap', title: 'Swap', phase: 'host' }] },
  { type: 'run-end', mode: 'reconcile', ok, durationMs: 20 },
  { type: 'drift', id: 'swap', changes: [], repaired: false },
  { type: 'scheduled', action: 'reconcile', at: 'later', delayMs: 300_000 },
];

test('countsForMetrics keeps what the metrics read and drops logs-only events and "no drift" verdicts', () => {
  const table: [AgentEvent, boolean][] = [
    [{ type: 'run-end', mode: 'run', ok: true, durationMs: 1 }, true],
    [{ type: 'step-retry', id: 'images', attempt: 1, delayMs: 5, error: 'x' }, true],
    [{ type: 'config-reload', ok: false, file: '/c.yaml', problems: [] }, true],
    [{ type: 'drift', id: 'swap', changes: [{ kind: 'action', description: 'swapoff -a' }], repaired: true }, true],
    [{ type: 'drift', id: 'swap', changes: [], repaired: false, error: 'failed' }, true],
    [{ type: 'drift', id: 'swap', changes: [], repaired: false }, false],
    [{ type: 'warning', message: 'm' }, false],
    [{ type: 'published', key: 'nodeIP', value: '10.0.0.1' }, false],
    [{ type: 'scheduled', action: 'retry', at: 'later', delayMs: 5 }, false],
  ];
  for (const [e, want] of table) assert.equal(countsForMetrics(e), want, JSON.stringify(e));
});

test('prom-client loads at the first scrape: counters of every earlier event are in it', async () => {
  const bus = new EventBus();
  const { route, loaded } = lazyMetrics(bus, new StatusModel(bus, debianFacts, { version: '1', commit: 'c', pid: 1, startedAt: 'now', config: '/c.yaml' }), { version: '1', commit: 'c', joinedAt: () => undefined });
  for (let i = 0; i < 3; i++) for (const e of reconcilePass(i !== 1)) bus.emit(e);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(loaded(), false, 'not loaded before a scrape');
  const m = parsePrometheusText(await scrape(route));
  assert.equal(loaded(), true);
  assert.equal(sampleValue(m, 'joinagent_runs_total', { mode: 'reconcile', result: 'ok' }), 2);
  assert.equal(sampleValue(m, 'joinagent_runs_total', { mode: 'reconcile', result: 'failed' }), 1);
  assert.ok(sampleValue(m, 'process_resident_memory_bytes')! > 0, 'default process metrics when scraped');
});

test('an unscraped daemon does not buffer for ever: reaching the bound loads prom-client, nothing is lost', async () => {
  const bus = new EventBus();
  const { route, loaded } = lazyMetrics(bus, new StatusModel(bus, debianFacts, { version: '1', commit: 'c', pid: 1, startedAt: 'now', config: '/c.yaml' }), { version: '1', commit: 'c', joinedAt: () => undefined }, 4);
  for (const e of reconcilePass(true)) bus.emit(e); // 2 events kept of 4
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(loaded(), false);
  for (let i = 1; i < 50; i++) {
    for (const e of reconcilePass(true)) bus.emit(e);
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(loaded(), true, 'loaded without a scrape once the buffer was full');
  const m = parsePrometheusText(await scrape(route));
  assert.equal(sampleValue(m, 'joinagent_runs_total', { mode: 'reconcile', result: 'ok' }), 50);
});
