import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runSteps } from '../../../src/engine/engine.js';
import type { Step } from '../../../src/engine/step.js';
import { containerdSteps } from '../../../src/steps/runtime/index.js';
import { debianFacts, FakeProc, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';
import { FakeCri } from '../../helpers/fake-cri.js';

// The three runtime steps over a temp root, a FakeProc and an in-process CRI server:
// what runs on a fresh host, and that a second run is all ok with no mutating command.

const DEFAULT_16 = readFileSync(path.resolve(import.meta.dirname, '../../fixtures/containerd/default-1.6.toml'), 'utf8');
const config = testConfig({ containerd: { source: 'distro', registryMirrors: { 'registry.k8s.io': ['http://mirror.test:5000'] } } });

describe('runtime steps (fake CRI)', () => {
  let t: ReturnType<typeof tempRoot>;
  let cri: FakeCri;
  let proc: FakeProc;
  let enabled: boolean;

  beforeEach(async () => {
    t = tempRoot();
    // a systemd host with cgroup v2, as the cgroup-driver step reads it
    await t.files.mkdir('/run/systemd/system');
    await t.files.write('/sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io memory pids\n');
    cri = new FakeCri();
    await cri.start(t.files.resolve('/run/containerd/containerd.sock'));
    enabled = false;
    proc = new FakeProc()
      .on('containerd config default', { stdout: DEFAULT_16 })
      .on('systemctl show --property=UnitFileState,ActiveState containerd', () => ({ stdout: `UnitFileState=${enabled ? 'enabled' : 'disabled'}\nActiveState=active\n` }))
      .on('systemctl enable --now containerd', () => {
        enabled = true;
        return {};
      })
      .on('systemctl restart containerd', () => {
        cri.reload(readFileSync(t.files.resolve('/etc/containerd/config.toml'), 'utf8'));
        return {};
      });
  });
  afterEach(async () => {
    await cri.stop();
    t.cleanup();
  });

  const run = (steps: Step[] = containerdSteps(config, debianFacts, { readyTimeoutMs: 2000 })) => {
    const ctx = stepContext(t.files, proc, config);
    return runSteps(steps, ctx, ctx.bus, { mode: 'prepare', checkOnly: false }).then((r) => ({ r, ctx }));
  };

  it('fresh host: config generated, containerd restarted once, enabled, both images pulled; rerun does nothing', async () => {
    const { r, ctx } = await run();
    assert.deepEqual(r.outcomes.map((o) => [o.id, o.state]), [['containerd-config', 'changed'], ['containerd-running', 'changed'], ['images', 'changed'], ['cgroup-driver', 'ok']]);
    assert.equal(r.outcomes[3].message, 'systemd (default), containerd SystemdCgroup = true, cgroup v2, init systemd');
    assert.deepEqual(proc.runs(), ['systemctl restart containerd', 'systemctl enable --now containerd']);
    assert.deepEqual(cri.pulls, ['registry.k8s.io/kube-proxy:v1.32.11', 'registry.k8s.io/pause:3.10']);
    assert.match(readFileSync(t.files.resolve('/etc/containerd/certs.d/registry.k8s.io/hosts.toml'), 'utf8'), /\[host\."http:\/\/mirror\.test:5000"\]\n {2}capabilities = \["pull", "resolve"\]/);
    assert.deepEqual(ctx.published.images, { 'registry.k8s.io/kube-proxy:v1.32.11': 'present', 'registry.k8s.io/pause:3.10': 'present' });

    proc.reset();
    cri.pulls = [];
    const again = await run();
    assert.deepEqual(again.r.outcomes.map((o) => o.state), ['ok', 'ok', 'ok', 'ok']);
    assert.deepEqual(proc.runs(), []);
    assert.deepEqual(cri.pulls, []);
  });

  it('config file right but containerd never restarted: the live CRI view triggers the restart', async () => {
    await run();
    cri.systemdCgroup = false; // as if the restart had not happened
    proc.reset();
    const { r } = await run();
    assert.equal(r.outcomes[0].state, 'changed');
    assert.deepEqual(proc.runs(), ['systemctl restart containerd']);
  });

  it('plan on a host without containerd: would change, runs nothing, writes nothing', async () => {
    const ro = new FakeProc(true);
    const ctx = { ...stepContext(t.files, ro, config), dryRun: true };
    const steps = containerdSteps(config, debianFacts);
    const r = await runSteps(steps, ctx, ctx.bus, { mode: 'plan', checkOnly: true });
    assert.equal(r.outcomes[0].state, 'changed');
    assert.match(r.outcomes[0].changes.map((c) => (c.kind === 'action' ? c.description : '')).join(), /generate \/etc\/containerd\/config\.toml from `containerd config default` once containerd is installed/);
    assert.deepEqual(ro.runs(), []);
    assert.equal(await t.files.exists('/etc/containerd/config.toml'), false);
  });

  it('an unknown Kubernetes minor fails the step with the version in the message', async () => {
    const c = testConfig({ kubernetesVersion: 'v1.99.0' });
    const ctx = stepContext(t.files, proc, c);
    const r = await runSteps(containerdSteps(c, debianFacts), ctx, ctx.bus, { mode: 'prepare', checkOnly: false });
    assert.equal(r.outcomes[0].state, 'failed');
    assert.match(r.outcomes[0].message!, /^kubernetesVersion v1\.99\.0: joinagent does not know which pause image/);
  });

  it('a mirror given by IPv6 address: refused on containerd 1.x (it would ignore the file), written on 2.x', async () => {
    const c = testConfig({ containerd: { source: 'distro', registryMirrors: { 'registry.k8s.io': ['http://[fd6a:6f69:6e00:1::1]:5000'] } } });
    proc.on('containerd --version', { stdout: 'containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n' });
    const ctx = stepContext(t.files, proc, c);
    const r = await runSteps(containerdSteps(c, debianFacts, { readyTimeoutMs: 2000 }), ctx, ctx.bus, { mode: 'prepare', checkOnly: false });
    assert.equal(r.outcomes[0].state, 'failed');
    assert.match(r.outcomes[0].message!, /containerd 1\.6 cannot use the registry mirror http:\/\/\[fd6a:6f69:6e00:1::1\]:5000: .*containerd issue #10055/);
    assert.match(r.outcomes[0].hint!, /give the mirror a name: add it to host\.hosts/);
    assert.equal(existsSync(t.files.resolve('/etc/containerd/config.toml')), false, 'nothing written');

    proc.on('containerd --version', { stdout: 'containerd github.com/containerd/containerd/v2 v2.1.9 2.1.9+ds1-5\n' });
    const ok = await runSteps(containerdSteps(c, debianFacts, { readyTimeoutMs: 2000 }), ctx, ctx.bus, { mode: 'prepare', checkOnly: false });
    assert.equal(ok.outcomes[0].state, 'changed');
    assert.match(readFileSync(t.files.resolve('/etc/containerd/certs.d/registry.k8s.io/hosts.toml'), 'utf8'), /\[host\."http:\/\/\[fd6a:6f69:6e00:1::1\]:5000"\]/);
  });

  it('kubelet.cgroupDriver: cgroupfs makes runc use cgroupfs; a containerd still on systemd fails the cgroup check', async () => {
    const c = testConfig({ containerd: config.agent.containerd, kubelet: { cgroupDriver: 'cgroupfs' } });
    const ctx = stepContext(t.files, proc, c);
    const r = await runSteps(containerdSteps(c, debianFacts, { readyTimeoutMs: 2000 }), ctx, ctx.bus, { mode: 'prepare', checkOnly: false });
    assert.deepEqual(r.outcomes.map((o) => [o.id, o.state]), [['containerd-config', 'changed'], ['containerd-running', 'changed'], ['images', 'changed'], ['cgroup-driver', 'ok']]);
    assert.match(readFileSync(t.files.resolve('/etc/containerd/config.toml'), 'utf8'), /SystemdCgroup = false/);
    assert.equal(cri.systemdCgroup, false, 'containerd runs with it');
    assert.ok(ctx.events.some((e) => e.type === 'warning' && /two cgroup managers/.test(e.message)), 'cgroupfs on a systemd host is warned');

    cri.systemdCgroup = true; // containerd started from another config, say
    const step = containerdSteps(c, debianFacts).find((s) => s.id === 'cgroup-driver')!;
    await assert.rejects(step.check(ctx), /containerd's runc uses the systemd cgroup driver \(SystemdCgroup = true\), but kubelet's is cgroupfs \(kubelet\.cgroupDriver\)/);
  });

  it('with a packages step in the list, the runtime steps wait for it; without, they do not', () => {
    assert.deepEqual(containerdSteps(config, debianFacts, { existing: ['packages'] }).map((s) => s.after), [['packages'], ['packages', 'containerd-config'], ['containerd-running'], ['containerd-running']]);
    assert.deepEqual(containerdSteps(config, debianFacts, { existing: ['hosts', 'packages'] }).map((s) => s.after)[2], ['containerd-running', 'hosts'], 'a mirror named in host.hosts resolves before the pull');
    assert.deepEqual(containerdSteps(config, debianFacts).map((s) => s.after), [[], ['containerd-config'], ['containerd-running'], ['containerd-running']]);
  });
});
