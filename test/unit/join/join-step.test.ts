import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { StepError, type Step, type StepContext } from '../../../src/engine/step.js';
import type { Files } from '../../../src/host/files.js';
import { joinCleanupStep } from '../../../src/join/cleanup-step.js';
import { joinStep } from '../../../src/join/join-step.js';
import { FakeProc, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';

// The join and cleanup steps against a temp root, a FakeProc standing in for kubeadm,
// and a tiny kubelet healthz server (port from the 19730-19749 test range).
let healthy = false;
let server: http.Server;
before(async () => {
  process.env.JOINAGENT_TEST_KUBELET_PORT = '19746';
  server = http.createServer((_q, res) => {
    res.writeHead(healthy ? 200 : 503);
    res.end(healthy ? 'ok' : 'no');
  });
  await new Promise<void>((r) => server.listen(19746, '127.0.0.1', r));
});
after(() => server.close());

const JOINED_OUTPUT = '[preflight] Running pre-flight checks\n[kubelet-start] Starting the kubelet\n[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap\n\nThis node has joined the cluster:\n';

// What kubeadm leaves behind on success.
function fakeKubeadm(files: Files, proc: FakeProc, fails: string[] = []): FakeProc {
  proc.on('kubeadm reset', { stdout: '[reset] done' });
  return proc.on('kubeadm join', () => {
    const failure = fails.shift();
    if (failure) return { exitCode: 1, stderr: failure };
    // synchronously, as kubeadm has finished writing before it exits
    mkdirSync(files.resolve('/etc/kubernetes'), { recursive: true });
    writeFileSync(files.resolve('/etc/kubernetes/kubelet.conf'), 'apiVersion: v1\n');
    healthy = true;
    return { stdout: JOINED_OUTPUT };
  });
}

async function converge(step: Step, ctx: StepContext): Promise<string> {
  const c = await step.check(ctx);
  if (c.state !== 'change') return c.state;
  await step.apply(ctx, c.changes);
  const v = await step.check(ctx);
  assert.equal(v.state, 'ok', `${step.id} verifies`);
  return 'changed';
}

test('join + cleanup: first run joins and strips the token, second run is all ok with no run()', async () => {
  const { files, cleanup } = tempRoot();
  healthy = false;
  try {
    const proc = fakeKubeadm(files, new FakeProc());
    const ctx = stepContext(files, proc, testConfig({ join: { resetOnFailure: false, timeout: 600_000, waitForReady: 0 } }));
    ctx.publish('nodeIP', '192.168.10.101');
    assert.equal(await converge(joinStep, ctx), 'changed');
    assert.deepEqual(proc.runs(), [`kubeadm join --config ${files.resolve('/var/lib/joinagent/kubeadm-join.yaml')}`]);
    const progress = ctx.events.filter((e) => e.type === 'step-progress').map((e) => (e as { message: string }).message);
    assert.deepEqual(progress, ['preflight: running pre-flight checks', 'kubelet-start: starting the kubelet', 'tls-bootstrap: waiting for the kubelet to perform the TLS bootstrap', 'joined: this node has joined the cluster']);
    assert.equal(ctx.published.joined, true);
    assert.match((await files.read('/var/lib/joinagent/kubeadm-join.yaml'))!, /token: abcdef\.0123456789abcdef/);
    assert.equal(await converge(joinCleanupStep, ctx), 'changed');
    assert.doesNotMatch((await files.read('/var/lib/joinagent/kubeadm-join.yaml'))!, /token:/);
    assert.equal((await files.stat('/var/lib/joinagent/kubeadm-join.yaml'))!.mode, 0o600);

    proc.reset();
    assert.equal(await converge(joinStep, ctx), 'ok');
    assert.equal(await converge(joinCleanupStep, ctx), 'ok');
    assert.deepEqual(proc.runs(), []);
  } finally {
    cleanup();
  }
});

test('a pre-flight failure becomes a StepError naming the check; no token stays on disk', async () => {
  const { files, cleanup } = tempRoot();
  healthy = false;
  try {
    const proc = fakeKubeadm(files, new FakeProc(), ['error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR Swap]: running with swap on is not supported. Please disable swap\n']);
    const ctx = stepContext(files, proc);
    const c = await joinStep.check(ctx);
    assert.equal(c.state, 'change');
    await assert.rejects(joinStep.apply(ctx, c.state === 'change' ? c.changes : []), (e: StepError) => /pre-flight checks: Swap/.test(e.message) && /host\.swap: disable/.test(e.hint ?? ''));
    assert.doesNotMatch((await files.read('/var/lib/joinagent/kubeadm-join.yaml'))!, /token:/);
  } finally {
    cleanup();
  }
});

test('join.resetOnFailure: a resettable failure gets kubeadm reset --force and one more attempt', async () => {
  const { files, cleanup } = tempRoot();
  healthy = false;
  try {
    const proc = fakeKubeadm(files, new FakeProc(), ['[kubelet-check] The kubelet is not healthy after 4m0s\nerror execution phase kubelet-start: the kubelet is not running']);
    proc.on('journalctl', { stdout: 'kubelet: failed to run Kubelet: misconfiguration' });
    const ctx = stepContext(files, proc, testConfig({ join: { resetOnFailure: true, timeout: 600_000, waitForReady: 0 } }));
    assert.equal(await converge(joinStep, ctx), 'changed');
    assert.deepEqual(proc.runs().map((r) => r.split(' --config')[0]), ['kubeadm join', 'kubeadm reset --force', 'kubeadm join']);
  } finally {
    cleanup();
  }
});

test('half-finished earlier join without resetOnFailure: reported, nothing run', async () => {
  const { files, cleanup } = tempRoot();
  healthy = false;
  try {
    await files.write('/var/lib/kubelet/config.yaml', 'kind: KubeletConfiguration\n');
    const proc = fakeKubeadm(files, new FakeProc());
    await assert.rejects(joinStep.check(stepContext(files, proc)), (e: StepError) => /half-finished earlier join left \/var\/lib\/kubelet\/config\.yaml/.test(e.message) && /kubeadm reset --force/.test(e.hint ?? ''));
    assert.deepEqual(proc.runs(), []);
  } finally {
    cleanup();
  }
});
