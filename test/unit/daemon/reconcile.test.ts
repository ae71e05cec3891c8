import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { reconcileOnce } from '../../../src/agent/reconcile.js';
import { StepError } from '../../../src/engine/step.js';
import { MANAGED, testSteps, WANTED, world } from './fixture.js';

// Drift = a converged node whose step checks differ again (someone edited a file, stopped
// kubelet). These tests converge a tiny world, break it, and run one reconcile pass.
test('repair mode: drift is detected, repaired, and shown in /status; a clean pass runs nothing', async () => {
  const w = await world();
  try {
    assert.equal((await w.agent.converge('run')).ok, true);
    assert.equal(w.agent.model.doc.ready, true);
    writeFileSync(path.join(w.root, MANAGED), 'wanted=0\n');
    w.kubelet.active = false;
    w.proc.reset();

    const s = await reconcileOnce(w.agent);
    assert.deepEqual(s.drifted.sort(), ['kubelet-running', 'managed-file']);
    assert.deepEqual(s.repaired.sort(), ['kubelet-running', 'managed-file']);
    assert.equal(await w.agent.files.read(MANAGED), WANTED);
    assert.deepEqual(w.proc.runs(), ['systemctl start kubelet']);
    const d = w.agent.model.snapshot().drift;
    assert.equal(d.detected, 2);
    assert.equal(d.repairs, 2);
    assert.deepEqual(d.steps, [], 'repaired steps are not listed as drifted');
    assert.deepEqual(d.recent.map((r) => [r.id, r.repaired]), [['managed-file', true], ['kubelet-running', true]]);
    assert.match(d.recent[1].changes[0], /kubelet: inactive -> active/);
    assert.ok(d.lastCheck);
    // the step table still says how the node converged
    assert.deepEqual(w.agent.model.doc.steps.map((x) => x.state), ['changed', 'ok', 'changed']);

    w.proc.reset();
    const again = await reconcileOnce(w.agent);
    assert.deepEqual(again.drifted, []);
    assert.deepEqual(w.proc.runs(), [], 'a pass over a converged node changes nothing');
    assert.equal(w.agent.model.doc.drift.repairs, 2);
  } finally {
    await w.cleanup();
  }
});

test('report mode: drift is reported and left alone', async () => {
  const w = await world({ config: { reconcile: { interval: 40, mode: 'report' } } });
  try {
    await w.agent.converge('run');
    writeFileSync(path.join(w.root, MANAGED), 'edited by hand\n');
    w.kubelet.active = false;
    w.proc.reset();
    const s = await reconcileOnce(w.agent);
    assert.deepEqual(s.repaired, []);
    assert.equal(await w.agent.files.read(MANAGED), 'edited by hand\n');
    assert.deepEqual(w.proc.runs(), []);
    const doc = w.agent.model.snapshot();
    assert.deepEqual(doc.drift.steps.sort(), ['kubelet-running', 'managed-file']);
    assert.equal(doc.drift.repairs, 0);
    assert.equal(doc.drift.detected, 2);
    assert.equal(doc.ready, true, 'drift alone does not un-join the node');

    // fixed by someone else: the next pass clears it
    writeFileSync(path.join(w.root, MANAGED), WANTED);
    w.kubelet.active = true;
    await reconcileOnce(w.agent);
    assert.deepEqual(w.agent.model.snapshot().drift.steps, []);
  } finally {
    await w.cleanup();
  }
});

test('a repair that fails is reported with its error and hint, and the step stays drifted', async () => {
  const w = await world({
    steps: (wd) => {
      const [file, kubelet, join] = testSteps(wd);
      kubelet.apply = async () => {
        throw new StepError('systemctl start kubelet failed: unit kubelet.service is masked', 'systemctl unmask kubelet', false);
      };
      return [file, kubelet, join];
    },
  });
  try {
    await w.agent.converge('run');
    w.kubelet.active = false;
    const s = await reconcileOnce(w.agent);
    assert.deepEqual(s.failed, ['kubelet-running']);
    const d = w.agent.model.snapshot().drift;
    assert.deepEqual(d.steps, ['kubelet-running']);
    const last = d.recent.at(-1)!;
    assert.equal(last.repaired, false);
    assert.match(last.error!, /masked/);
    assert.equal(last.hint, 'systemctl unmask kubelet');
    assert.equal(w.agent.model.doc.ready, true);
  } finally {
    await w.cleanup();
  }
});
