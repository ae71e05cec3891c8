import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { StepError, type Step, type StepContext } from '../../../../src/engine/step.js';
import type { Files } from '../../../../src/host/files.js';
import { interruptedByUs } from '../../../../src/join/attempt.js';
import { joinCleanupStep } from '../../../../src/steps/join/cleanup.js';
import { joinStep } from '../../../../src/steps/join/join.js';
import { kubeletConfigStep } from '../../../../src/steps/join/kubelet-config.js';
import { makePki } from '../../../fixtures/pki.js';
import { FakeProc, stepContext, tempRoot, testConfig } from '../../../helpers/fakes.js';

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
let OTHER_CA = '';
before(() => {
  const pki = makePki('another-cluster');
  OTHER_CA = pki.caPem;
  rmSync(pki.dir, { recursive: true, force: true });
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

// A kubeadm join joinagent started and never saw finish (the agent was SIGKILLed): the
// record in /var/lib/joinagent plus kubeadm's first files, no kubelet.conf.
async function interruptedJoin(files: Files, caPem?: string): Promise<void> {
  await files.write('/var/lib/joinagent/join-attempt.json', JSON.stringify({ startedAt: '2025-01-01T00:00:00.000Z', pid: 4242, apiServer: '192.168.10.100:6443', pins: [] }), { backup: false });
  await files.write('/etc/kubernetes/bootstrap-kubelet.conf', 'apiVersion: v1\n');
  await files.write('/var/lib/kubelet/config.yaml', 'kind: KubeletConfiguration\n');
  if (caPem) await files.write('/etc/kubernetes/pki/ca.crt', caPem);
}

test('join interrupted by joinagent itself: kubeadm reset --force, join again, warn; the record is cleared', async () => {
  const { files, cleanup } = tempRoot();
  healthy = false;
  try {
    await interruptedJoin(files);
    const proc = fakeKubeadm(files, new FakeProc());
    const ctx = stepContext(files, proc);
    const c = await joinStep.check(ctx);
    assert.equal(c.state, 'change');
    assert.match(JSON.stringify(c), /kubeadm reset --force \(resuming an interrupted join: joinagent started kubeadm join at 2025-01-01T00:00:00\.000Z/);
    assert.equal(await converge(joinStep, ctx), 'changed');
    assert.deepEqual(proc.runs().map((r) => r.split(' --config')[0]), ['kubeadm reset --force', 'kubeadm join']);
    const warnings = ctx.events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /previous kubeadm join was interrupted .*kubeadm reset --force/);
    assert.equal(await files.exists('/var/lib/joinagent/join-attempt.json'), false, 'record removed once kubeadm exited');
  } finally {
    cleanup();
  }
});

test('the join-attempt record exists exactly while kubeadm runs, and is cleared when kubeadm fails too', async () => {
  const { files, cleanup } = tempRoot();
  healthy = false;
  try {
    const seen: boolean[] = [];
    const proc = new FakeProc().on('kubeadm join', () => {
      seen.push(existsSync(files.resolve('/var/lib/joinagent/join-attempt.json')));
      return { exitCode: 1, stderr: 'error execution phase preflight: [ERROR Swap]: swap on' };
    });
    const ctx = stepContext(files, proc);
    const c = await joinStep.check(ctx);
    await assert.rejects(joinStep.apply(ctx, c.state === 'change' ? c.changes : []), /Swap/);
    assert.deepEqual(seen, [true], 'record present while kubeadm ran');
    assert.equal(await files.exists('/var/lib/joinagent/join-attempt.json'), false, 'cleared after the failure');
  } finally {
    cleanup();
  }
});

test('leftovers without joinagent\'s record, or with another cluster\'s CA: reported, nothing run', async () => {
  const { files, cleanup } = tempRoot();
  healthy = false;
  try {
    // our record, but ca.crt is of a cluster other than the one we expect
    await interruptedJoin(files, OTHER_CA);
    const proc = fakeKubeadm(files, new FakeProc());
    const ctx = stepContext(files, proc);
    ctx.publish('discovery', { apiServer: 'x', caPins: ['sha256:' + '0'.repeat(64)] });
    await assert.rejects(joinStep.check(ctx), (e: StepError) => /half-finished earlier join/.test(e.message));
    // no record at all
    await files.remove('/var/lib/joinagent/join-attempt.json', { backup: false });
    await files.remove('/etc/kubernetes/pki/ca.crt', { backup: false });
    await assert.rejects(joinStep.check(stepContext(files, proc)), (e: StepError) => /half-finished earlier join/.test(e.message));
    assert.deepEqual(proc.runs(), []);
  } finally {
    cleanup();
  }
});

test('interruptedByUs: the table', () => {
  const attempt = { startedAt: 't', pid: 1, apiServer: 'a', pins: ['sha256:aa'] };
  const local = (o: Partial<{ kubeletConf: boolean; leftovers: string[]; caPins: string[] }>) => ({ kubeletConf: false, leftovers: ['/var/lib/kubelet/config.yaml'], caPins: [], ...o });
  const rows: [string, boolean, ReturnType<typeof local>, typeof attempt | undefined, string[]][] = [
    ['record + leftovers, no CA yet', true, local({}), attempt, []],
    ['no record', false, local({}), undefined, []],
    ['kubelet.conf there (joined somewhere)', false, local({ kubeletConf: true }), attempt, []],
    ['nothing left', false, local({ leftovers: [] }), attempt, []],
    ['CA matches the recorded pin', true, local({ caPins: ['sha256:aa'] }), attempt, []],
    ['CA matches the discovered pin', true, local({ caPins: ['sha256:bb'] }), { ...attempt, pins: [] }, ['sha256:bb']],
    ['CA of another cluster', false, local({ caPins: ['sha256:cc'] }), attempt, ['sha256:bb']],
    ['CA present, nothing to compare with', false, local({ caPins: ['sha256:cc'] }), { ...attempt, pins: [] }, []],
  ];
  for (const [name, want, l, a, expected] of rows) assert.equal(interruptedByUs(l, a, expected), want, name);
});

test('join-cleanup removes a stale join-attempt record once joined', async () => {
  const { files, cleanup } = tempRoot();
  try {
    await files.write('/etc/kubernetes/kubelet.conf', 'apiVersion: v1\n');
    await files.write('/var/lib/joinagent/join-attempt.json', '{}', { backup: false });
    const ctx = stepContext(files, new FakeProc());
    assert.equal(await converge(joinCleanupStep, ctx), 'changed');
    assert.equal(await files.exists('/var/lib/joinagent/join-attempt.json'), false);
    assert.equal(await converge(joinCleanupStep, ctx), 'ok');
  } finally {
    cleanup();
  }
});

test('kubelet: settings: the join writes joinagent\'s patch beside copies of the operator\'s, kubeadm gets that directory; plan lists them', async () => {
  const { files, cleanup, root } = tempRoot();
  const userDir = `${root}-user-patches`;
  mkdirSync(userDir, { recursive: true });
  writeFileSync(`${userDir}/kubeletconfiguration+json.yaml`, '- op: add\n  path: /serializeImagePulls\n  value: false\n');
  healthy = false;
  try {
    const proc = fakeKubeadm(files, new FakeProc());
    const config = testConfig({ kubelet: { maxPods: 42, cgroupDriver: 'systemd' } });
    config.join = { ...config.join, patchesDir: userDir };
    const ctx = stepContext(files, proc, config);
    // a file from an earlier run that is no longer wanted
    await files.mkdir('/var/lib/joinagent/patches');
    await files.write('/var/lib/joinagent/patches/kubeletconfiguration-old.yaml', 'maxPods: 1\n');
    const c = await joinStep.check(ctx);
    assert.ok(c.state === 'change');
    assert.deepEqual(c.changes.filter((x) => x.kind === 'file').map((x) => `${x.path} ${x.kind === 'file' && x.after === null ? 'remove' : 'write'}`), [
      '/var/lib/joinagent/patches/kubeletconfiguration-joinagent+merge.yaml write',
      '/var/lib/joinagent/patches/kubeletconfiguration+json.yaml write',
      '/var/lib/joinagent/patches/kubeletconfiguration-old.yaml remove',
      '/var/lib/joinagent/kubeadm-join.yaml write',
    ]);
    await joinStep.apply(ctx, c.changes);
    assert.equal(await files.read('/var/lib/joinagent/patches/kubeletconfiguration-joinagent+merge.yaml'), '# Written by joinagent from kubelet: in /etc/joinagent/config.yaml; kubeadm applies it to /var/lib/kubelet/config.yaml.\ncgroupDriver: systemd\nmaxPods: 42\n');
    assert.equal(existsSync(files.resolve('/var/lib/joinagent/patches/kubeletconfiguration-old.yaml')), false);
    assert.match((await files.read('/var/lib/joinagent/kubeadm-join.yaml'))!, /\npatches:\n {2}directory: \/var\/lib\/joinagent\/patches\n/);
  } finally {
    cleanup();
    rmSync(userDir, { recursive: true, force: true });
  }
});

test('kubelet-config: a setting changed after the join is merged into config.yaml and kubelet restarted; then ok', async () => {
  const { files, cleanup } = tempRoot();
  healthy = true;
  try {
    const proc = new FakeProc().on('systemctl restart kubelet', {});
    const ctx = stepContext(files, proc, testConfig({ kubelet: { maxPods: 42 } }));
    assert.equal((await kubeletConfigStep.check(ctx)).state, 'skip', 'not joined yet: kubeadm writes the file');
    await files.write('/var/lib/kubelet/config.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nmaxPods: 110\n');
    const c = await kubeletConfigStep.check(ctx);
    assert.ok(c.state === 'change');
    assert.deepEqual(c.changes.filter((x) => x.kind === 'value'), [{ kind: 'value', name: 'kubelet maxPods', live: '110', wanted: '42' }]);
    await kubeletConfigStep.apply(ctx, c.changes);
    assert.match((await files.read('/var/lib/kubelet/config.yaml'))!, /^maxPods: 42$/m);
    assert.deepEqual(proc.runs(), ['systemctl restart kubelet']);
    assert.equal((await kubeletConfigStep.check(ctx)).state, 'ok');
    assert.deepEqual((ctx.published.kubelet as { differs: string[] }).differs, []);
  } finally {
    cleanup();
  }
});
