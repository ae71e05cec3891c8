import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Agent } from '../../../src/agent/converge.js';
import type { Step } from '../../../src/engine/step.js';
import { paths } from '../../../src/host/paths.js';
import { createLogger } from '../../../src/log/logger.js';
import { buildFakeHost } from '../../helpers/fake-host.js';
import { FakeProc, tempRoot, testConfig } from '../../helpers/fakes.js';

// A step standing in for the join: it writes the kubelet's kubeconfig.
const joinLike: Step = {
  id: 'fake-join',
  title: 'write kubelet.conf',
  phase: 'join',
  async check(ctx) {
    return (await ctx.files.exists('/etc/kubernetes/kubelet.conf')) ? { state: 'ok' } : { state: 'change', changes: [{ kind: 'action', description: 'join' }] };
  },
  async apply(ctx) {
    // the before snapshot must already exist when the first change happens
    assert.ok(await ctx.files.exists(paths.snapshotBefore), 'before snapshot taken ahead of the first apply');
    await ctx.files.write('/etc/kubernetes/kubelet.conf', 'kind: Config\n', { mode: 0o600 });
    ctx.publish('joined', true);
  },
};

test('run takes a before snapshot ahead of its first change and an after snapshot at the end', async () => {
  const t = tempRoot();
  try {
    buildFakeHost(t.root, { joined: false });
    const mk = (mode: 'run' | 'plan') => new Agent(testConfig(), { mode, root: t.root, log: createLogger('json', 'silent'), readOnly: mode === 'plan', serve: false, stepSet: 'run', steps: () => [joinLike], files: t.files, proc: new FakeProc(mode === 'plan') });
    const agent = mk('run');
    await agent.start();
    assert.equal((await agent.converge('run')).ok, true);
    await agent.stop();
    const read = (p: string) => JSON.parse(readFileSync(path.join(t.root, p), 'utf8'));
    const before = read(paths.snapshotBefore);
    const after = read(paths.snapshotAfter);
    assert.equal(before.label, 'before');
    assert.ok(!('/etc/kubernetes/kubelet.conf' in before.views['files:/etc/kubernetes'].items));
    assert.match(after.views['files:/etc/kubernetes'].items['/etc/kubernetes/kubelet.conf'], /^file 0600 /);

    // a converged re-run changes nothing, so the pair that shows the join stays
    const again = mk('run');
    await again.start();
    await again.converge('run');
    await again.stop();
    assert.equal(read(paths.snapshotBefore).takenAt, before.takenAt);
    assert.equal(read(paths.snapshotAfter).takenAt, after.takenAt);
    const state = read(paths.state);
    assert.deepEqual(state.changeLog.map((c: { step: string; changes: string[] }) => [c.step, c.changes]), [['fake-join', ['join']]], 'the change log keeps what the first run did');
  } finally {
    t.cleanup();
  }
});

test('plan takes no snapshot', async () => {
  const t = tempRoot();
  try {
    const agent = new Agent(testConfig(), { mode: 'plan', root: t.root, log: createLogger('json', 'silent'), readOnly: true, serve: false, stepSet: 'run', steps: () => [joinLike], files: t.files, proc: new FakeProc(true) });
    await agent.start();
    await agent.converge('plan');
    await agent.stop();
    assert.equal(existsSync(path.join(t.root, paths.snapshotDir)), false);
  } finally {
    t.cleanup();
  }
});
