import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from '../../../src/engine/events.js';
import { createMetrics } from '../../../src/status/metrics.js';
import { StatusModel } from '../../../src/status/model.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prom-text.js';
import { debianFacts } from '../../helpers/fakes.js';

function joinedModel(): { bus: EventBus; model: StatusModel } {
  const bus = new EventBus();
  const model = new StatusModel(bus, debianFacts, { version: 't', commit: 't', pid: 1, startedAt: '', config: '/c' });
  bus.emit({ type: 'run-start', mode: 'run', steps: [{ id: 'join', title: 'join', phase: 'join' }] });
  bus.emit({ type: 'published', key: 'joined', value: true });
  bus.emit({ type: 'run-end', mode: 'run', ok: true, durationMs: 1 });
  return { bus, model };
}

test('/status: an upgrade the config asks for is not ready until done; stopped and refused are failures with the reason', () => {
  const { bus, model } = joinedModel();
  assert.equal(model.doc.ready, true);
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'pending', from: 'v1.32.11', to: 'v1.32.12' } });
  assert.deepEqual([model.doc.ready, model.doc.phase, model.doc.reason], [false, 'upgrading', 'upgrading v1.32.11 -> v1.32.12']);
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'stopped', from: 'v1.32.11', to: 'v1.32.12', stoppedAt: 'kubeadm-upgrade-node', error: 'kubeadm upgrade node failed: x' } });
  assert.deepEqual([model.doc.ready, model.doc.phase], [false, 'failed']);
  assert.match(model.doc.reason ?? '', /stopped at kubeadm-upgrade-node: kubeadm upgrade node failed: x/);
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'running', from: 'v1.32.11', to: 'v1.32.12' } });
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'done', from: 'v1.32.11', to: 'v1.32.12' } });
  assert.deepEqual([model.doc.ready, model.doc.phase, model.doc.reason], [true, 'ready', undefined]);
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'refused', from: 'v1.32.12', to: 'v1.34.0', reason: 'skips v1.33' } });
  assert.deepEqual([model.doc.ready, model.doc.reason], [false, 'upgrade v1.32.12 -> v1.34.0 refused: skips v1.33']);
});

test('/status: "current" (nothing to upgrade) ends a pending upgrade but does not touch a run in progress', () => {
  const { bus, model } = joinedModel();
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'pending', from: 'v1.32.11', to: 'v1.32.11' } });
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'current', version: 'v1.32.11' } });
  assert.equal(model.doc.ready, true);
  bus.emit({ type: 'run-start', mode: 'run', steps: [{ id: 'join', title: 'join', phase: 'join' }] });
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'current', version: 'v1.32.11' } });
  assert.equal(model.doc.phase, 'join', 'the run decides when it is done');
});

test('/metrics: joinagent_upgrade_state names the versions, the state and where it stopped', async () => {
  const { bus, model } = joinedModel();
  const m = createMetrics(bus, model, { version: 't', commit: 't', joinedAt: () => undefined, processMetrics: false });
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'stopped', from: 'v1.32.11', to: 'v1.32.12', stoppedAt: 'kubelet', done: ['images', 'kubeadm', 'kubeadm-upgrade-node'], actions: ['images', 'kubeadm', 'kubeadm-upgrade-node', 'kubelet', 'restart-kubelet', 'verify'] } });
  let p = parsePrometheusText(await m.registry.metrics());
  assert.equal(sampleValue(p, 'joinagent_upgrade_state', { from: 'v1.32.11', to: 'v1.32.12', state: 'stopped', action: 'kubelet' }), 1);
  assert.equal(sampleValue(p, 'joinagent_upgrade_actions_done'), 3);
  bus.emit({ type: 'published', key: 'upgrade', value: { state: 'done', from: 'v1.32.11', to: 'v1.32.12', actions: ['a', 'b', 'c', 'd', 'e', 'f'] } });
  p = parsePrometheusText(await m.registry.metrics());
  assert.equal(p.get('joinagent_upgrade_state')!.samples.length, 1, 'one series: the last upgrade');
  assert.equal(sampleValue(p, 'joinagent_upgrade_state', { from: 'v1.32.11', to: 'v1.32.12', state: 'done', action: '' }), 1);
  assert.equal(sampleValue(p, 'joinagent_upgrade_actions_done'), 6);
});
