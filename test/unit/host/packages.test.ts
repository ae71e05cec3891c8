import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { LoadedConfig } from '../../../src/config/types.js';
import { StepError } from '../../../src/engine/step.js';
import { armorKey, compareVersions, containerdPackage, packagesStep, pickVersion, repositoryPlan, versionMatches, wantedPackages } from '../../../src/steps/host/packages/index.js';
import { debianFacts, rockyFacts, stepContext, testConfig } from '../../helpers/fakes.js';
import { runTwice } from './run-twice.js';
import { simulateHost } from './sim-host.js';

const conf = (source: 'docker' | 'distro', version?: string, k8s = 'v1.32.11'): LoadedConfig => testConfig({ kubernetesVersion: k8s, containerd: { source, version, registryMirrors: {} } });
const show = (c: LoadedConfig, family: 'rhel' | 'debian'): string[] => wantedPackages(c, { family }).map((w) => `${w.name}@${w.version ?? '*'}${w.hold ? ' held' : ''} (${w.repo})`);

describe('packages: wantedPackages', () => {
  const kube = ['kubelet@1.32.11 held (kubernetes)', 'kubeadm@1.32.11 held (kubernetes)', 'kubectl@1.32.11 held (kubernetes)', 'cri-tools@1.32.* held (kubernetes)'];
  const table: [string, LoadedConfig, 'rhel' | 'debian', string[]][] = [
    ['docker containerd.io, pinned, rhel (dnf 4: its versionlock plugin)', conf('docker', '2.1.5'), 'rhel', [...kube, 'containerd.io@2.1.5 (docker)', 'python3-dnf-plugin-versionlock@* (distro)']],
    ['docker containerd.io, unpinned, debian', conf('docker'), 'debian', [...kube, 'containerd.io@* (docker)']],
    ['distro containerd on debian needs runc', conf('distro', '1.6.20'), 'debian', [...kube, 'containerd@1.6.20 (distro)', 'runc@* (distro)']],
    ['distro containerd on fedora', conf('distro'), 'rhel', [...kube, 'containerd@* (distro)', 'python3-dnf-plugin-versionlock@* (distro)']],
    ['another minor', conf('docker', undefined, 'v1.31.4'), 'debian', [...kube.map((k) => k.replace('1.32.11', '1.31.4').replace('1.32.*', '1.31.*')), 'containerd.io@* (docker)']],
  ];
  for (const [name, c, family, want] of table) it(name, () => assert.deepEqual(show(c, family), want));
  it('names the containerd package for the runtime step', () => {
    assert.equal(containerdPackage(conf('docker')), 'containerd.io');
    assert.equal(containerdPackage(conf('distro')), 'containerd');
  });
});

describe('packages: versions', () => {
  const table: [string, string | undefined, boolean][] = [
    ['1.32.11-1.1', '1.32.11', true],
    ['1.32.11-150500.1.1', '1.32.11', true],
    ['1.32.110-1.1', '1.32.11', false],
    ['1.32.10-1.1', '1.32.11', false],
    ['1.33.0-1.1', '1.32.11', false],
    ['1.32.0-1.1', '1.32.*', true],
    ['1.3.2-1', '1.32.*', false],
    ['1.6.20~ds1-1+b1', '1.6.20', true],
    ['1:2.1.5-1.el10', '2.1.5', true],
    ['2.1.5-1', '2.1.5-1', true],
    ['anything', undefined, true],
  ];
  for (const [v, want, ok] of table) it(`${v} ${ok ? 'matches' : 'does not match'} ${want}`, () => assert.equal(versionMatches(v, want), ok));
  it('orders versions numerically, ~ first', () => {
    assert.deepEqual(['1.32.10-1.1', '1.32.9-1.1', '1.32.11-1.1', '1.32.11~rc1-1'].sort(compareVersions), ['1.32.9-1.1', '1.32.10-1.1', '1.32.11~rc1-1', '1.32.11-1.1']);
    assert.equal(pickVersion(['1.32.0-1.1', '1.32.2-1.1', '1.33.0-1.1'], '1.32.*'), '1.32.2-1.1');
    assert.equal(pickVersion(['1.32.10-1.1'], '1.32.11'), undefined);
  });
});

describe('packages: repositories', () => {
  it('deb: keyring under /etc/apt/keyrings and signed-by=, pkgs.k8s.io per minor', () => {
    const plan = repositoryPlan(conf('docker'), debianFacts, { id: 'debian', codename: 'bookworm' });
    assert.deepEqual(plan.keys, [
      { path: '/etc/apt/keyrings/kubernetes.asc', source: 'https://pkgs.k8s.io/core:/stable:/v1.32/deb/Release.key' },
      { path: '/etc/apt/keyrings/docker.asc', source: 'https://download.docker.com/linux/debian/gpg' },
    ]);
    assert.equal(plan.files[0].content.split('\n')[1], 'deb [signed-by=/etc/apt/keyrings/kubernetes.asc] https://pkgs.k8s.io/core:/stable:/v1.32/deb/ /');
    assert.equal(plan.files[1].content.split('\n')[1], 'deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable');
  });
  it('rpm: upstream\'s repo files (gpgcheck, gpgkey, exclude; no repo_gpgcheck); overrides for a mirror', () => {
    const c = testConfig({ repositories: { kubernetes: { url: 'http://mirror.test/k8s/rpm', key: '/etc/pki/k8s.key' } }, containerd: { source: 'distro', registryMirrors: {} } });
    const plan = repositoryPlan(c, rockyFacts, { id: 'rocky' });
    assert.equal(plan.files.length, 1, 'no docker repo for distro containerd');
    assert.equal(plan.files[0].content, '# joinagent: Kubernetes packages (pkgs.k8s.io\'s repo file; held by versionlock)\n[kubernetes]\nname=Kubernetes v1.32\nbaseurl=http://mirror.test/k8s/rpm/\nenabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/kubernetes.asc\nexclude=kubelet kubeadm kubectl cri-tools kubernetes-cni\n');
    assert.deepEqual(plan.keys, [{ path: '/etc/pki/rpm-gpg/kubernetes.asc', source: '/etc/pki/k8s.key' }]);
    const docker = repositoryPlan(conf('docker'), rockyFacts, { id: 'rocky' }).files[1];
    // download.docker.com/linux/centos/docker-ce.repo's enabled section, key kept locally
    assert.equal(docker.content, '# joinagent: containerd.io from Docker\n[docker-ce-stable]\nname=Docker CE Stable - $basearch\nbaseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable\nenabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/docker.asc\n');
  });
  it('armors a binary key so gpg reads it back byte for byte', () => {
    const bin = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 0x99) & 0xff));
    const armored = armorKey(bin);
    assert.match(armored, /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n/);
    assert.deepEqual(execFileSync('gpg', ['--dearmor'], { input: armored }), bin);
    assert.equal(armorKey(Buffer.from(armored)), armored, 'an armored key is kept as is');
  });
});

describe('packages step', () => {
  let server: http.Server;
  const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBServedKey\n=zzzz\n-----END PGP PUBLIC KEY BLOCK-----\n';
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/Release.key') res.end(KEY);
      else if (req.url === '/busy.key') res.writeHead(503).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(19700, '127.0.0.1', r));
  });
  after(() => server.close());

  it('debian: a URL key is downloaded once (loopback), repos written, one install; second run ok', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    sim.config.agent.repositories.kubernetes = { url: 'http://127.0.0.1:19700/', key: 'http://127.0.0.1:19700/Release.key' };
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const { first } = await runTwice(packagesStep, ctx, sim.proc);
    assert.ok(first.state === 'change' && first.changes.some((c) => c.kind === 'action' && c.description === 'download key http://127.0.0.1:19700/Release.key -> /etc/apt/keyrings/kubernetes.asc'));
    assert.equal(await sim.files.read('/etc/apt/keyrings/kubernetes.asc'), KEY);
    assert.equal(await sim.files.read('/etc/apt/sources.list.d/kubernetes.list'), '# joinagent: Kubernetes v1.32 packages\ndeb [signed-by=/etc/apt/keyrings/kubernetes.asc] http://127.0.0.1:19700/ /\n');
    assert.deepEqual(sim.held, new Set(['kubelet', 'kubeadm', 'kubectl', 'cri-tools']));
  });

  it('debian: apt-get update only when needed; a newer patch is fetched, a newer kubelet downgraded', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    await runTwice(packagesStep, ctx, sim.proc);
    // someone upgraded kubelet past the control plane: back to exactly 1.32.11, from the cache
    sim.installed.set('kubelet', '1.33.0-1.1');
    await runTwice(packagesStep, ctx, sim.proc);
    // (runTwice resets the recording after apply; re-run to see the commands)
    sim.installed.set('kubelet', '1.33.0-1.1');
    const r = await packagesStep.check(ctx);
    assert.deepEqual(r.state === 'change' && r.changes, [{ kind: 'value', name: 'package kubelet', live: '1.33.0-1.1', wanted: '1.32.11' }]);
    sim.proc.reset();
    await packagesStep.apply(ctx, r.state === 'change' ? r.changes : []);
    assert.deepEqual(sim.proc.runs(), ['apt-get install -y -q --no-install-recommends --allow-downgrades --allow-change-held-packages -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold kubelet=1.32.11-1.1']);
    // a new patch release: not in the cached metadata, so one apt-get update
    for (const p of ['kubelet', 'kubeadm', 'kubectl']) sim.repo[p].push('1.32.12-1.1');
    const c12 = testConfig({ ...sim.config.agent, kubernetesVersion: 'v1.32.12' });
    const ctx12 = stepContext(sim.files, sim.proc, c12, sim.facts);
    const r12 = await packagesStep.check(ctx12);
    sim.proc.reset();
    await packagesStep.apply(ctx12, r12.state === 'change' ? r12.changes : []);
    assert.deepEqual(sim.proc.runs().map((l) => l.split(' -')[0]), ['apt-get update', 'apt-get install']);
    assert.equal(sim.installed.get('kubeadm'), '1.32.12-1.1');
  });

  it('debian: new source files are read on their own, the other lists of the host are kept; a miss re-reads everything', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await packagesStep.apply(ctx, r.state === 'change' ? r.changes : []);
    const updates = sim.proc.runs().filter((l) => l.startsWith('apt-get update'));
    assert.deepEqual(
      updates.map((l) => /sourcelist=\S*?(\/etc\/apt\/sources\.list\.d\/\S+)/.exec(l)?.[1]),
      ['/etc/apt/sources.list.d/kubernetes.list', '/etc/apt/sources.list.d/docker.list'],
      updates.join('\n'),
    );
    assert.ok(updates.every((l) => l.includes('-o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0')));
    assert.equal(sim.installed.get('containerd.io'), '2.1.5-1');
    // a patch release the cache has not seen, sources unchanged: one full apt-get update
    for (const p of ['kubelet', 'kubeadm', 'kubectl']) sim.repo[p].push('1.32.12-1.1');
    const ctx12 = stepContext(sim.files, sim.proc, testConfig({ ...sim.config.agent, kubernetesVersion: 'v1.32.12' }), sim.facts);
    const r12 = await packagesStep.check(ctx12);
    sim.proc.reset();
    await packagesStep.apply(ctx12, r12.state === 'change' ? r12.changes : []);
    assert.deepEqual(sim.proc.runs().filter((l) => l.startsWith('apt-get update')), ['apt-get update -q -o DPkg::Lock::Timeout=120']);
  });

  it('debian: a fresh image with no lists at all gets one full apt-get update, not ours first and then everything', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    rmSync(sim.files.resolve('/var/lib/apt/lists'), { recursive: true });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await packagesStep.apply(ctx, r.state === 'change' ? r.changes : []);
    assert.deepEqual(sim.proc.runs().filter((l) => l.startsWith('apt-get update')), ['apt-get update -q -o DPkg::Lock::Timeout=120']);
    assert.equal(sim.installed.get('containerd.io'), '2.1.5-1');
  });

  it('rhel: dnf install with exact NEVRs (and the versionlock plugin); the hold is a versionlock at the installed build; second run ok', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await packagesStep.apply(ctx, r.state === 'change' ? r.changes : []);
    assert.deepEqual(sim.proc.runs(), [
      'dnf install -y -q --setopt=install_weak_deps=False --setopt=disable_excludes=kubernetes kubelet-1.32.11-150500.1.1 kubeadm-1.32.11-150500.1.1 kubectl-1.32.11-150500.1.1 cri-tools-1.32.0-150500.1.1 containerd.io-2.1.5-1.el10 python3-dnf-plugin-versionlock-4.3.1-1.el10',
      'dnf versionlock add -q kubelet-1.32.11-150500.1.1 kubeadm-1.32.11-150500.1.1 kubectl-1.32.11-150500.1.1 cri-tools-1.32.0-150500.1.1',
      'systemctl enable --no-reload kubelet',
    ]);
    assert.equal(await sim.files.read('/etc/dnf/plugins/versionlock.list'), 'kubelet-0:1.32.11-150500.1.1.*\nkubeadm-0:1.32.11-150500.1.1.*\nkubectl-0:1.32.11-150500.1.1.*\ncri-tools-0:1.32.0-150500.1.1.*\n');
    await runTwice(packagesStep, ctx, sim.proc);
    assert.match((await sim.files.read('/etc/yum.repos.d/docker-ce.repo'))!, /^baseurl=https:\/\/download\.docker\.com\/linux\/centos\/\$releasever\/\$basearch\/stable$/m);
  });

  it('rhel: a new patch release drops the old versionlocks for the install and locks the new build', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    await runTwice(packagesStep, stepContext(sim.files, sim.proc, sim.config, sim.facts), sim.proc);
    for (const p of ['kubelet', 'kubeadm', 'kubectl']) sim.repo[p].push('1.32.12-150500.1.1');
    const ctx12 = stepContext(sim.files, sim.proc, testConfig({ ...sim.config.agent, kubernetesVersion: 'v1.32.12' }), sim.facts);
    const r = await packagesStep.check(ctx12);
    sim.proc.reset();
    await packagesStep.apply(ctx12, r.state === 'change' ? r.changes : []);
    assert.deepEqual(sim.proc.runs(), [
      'dnf versionlock delete -q kubelet kubeadm kubectl',
      'dnf install -y -q --setopt=install_weak_deps=False --setopt=disable_excludes=kubernetes kubelet-1.32.12-150500.1.1 kubeadm-1.32.12-150500.1.1 kubectl-1.32.12-150500.1.1',
      'dnf versionlock add -q kubelet-1.32.12-150500.1.1 kubeadm-1.32.12-150500.1.1 kubectl-1.32.12-150500.1.1',
    ]);
    assert.equal((await packagesStep.check(ctx12)).state, 'ok', 'held again: nothing left to do');
  });

  it('a version the repository does not have fails, listing what it has (not retried)', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, testConfig({ ...sim.config.agent, kubernetesVersion: 'v1.32.99' }), sim.facts);
    const r = await packagesStep.check(ctx);
    await assert.rejects(packagesStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: StepError) => {
      assert.match(e.message, /not in the configured repositories: kubelet 1\.32\.99 \(available: 1\.32\.11-1\.1, 1\.32\.10-1\.1\)/);
      assert.equal(e.retryable, false);
      return true;
    });
    assert.deepEqual([...sim.installed.keys()], [], 'nothing installed');
  });

  it('network trouble and a held dpkg lock are retryable; the lock file is never touched', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    await sim.files.write('/var/lib/dpkg/lock-frontend', '');
    sim.proc.on(/^apt-get update/, { exitCode: 100, stderr: 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)' });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await assert.rejects(packagesStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: StepError) => e.retryable && /never delete the lock/.test(e.hint ?? '') && /unattended-upgr \(pid 4242\) holds \/var\/lib\/dpkg\/lock-frontend/.test(e.hint ?? ''));
    assert.equal(await sim.files.exists('/var/lib/dpkg/lock-frontend'), true);
    sim.proc.on(/^apt-get update/, { exitCode: 100, stderr: "E: Failed to fetch http://127.0.0.1:19709/dists  Temporary failure resolving 'pkgs.k8s.io'" });
    await assert.rejects(packagesStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: StepError) => e.retryable && /unreachable|not reachable/.test(e.hint ?? ''));
    assert.equal(packagesStep.retry!.attempts > 1, true);
  });

  it('apt-get update exits 0 but could not fetch the repository: retryable, naming the source', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    sim.proc.on(/^apt-get update/, { exitCode: 0, stderr: 'W: Failed to fetch http://198.18.140.1:8080/debian/InRelease  Could not connect to 198.18.140.1:8080 (198.18.140.1). - connect (111: Connection refused)\nW: Some index files failed to download. They have been ignored, or old ones used instead.' });
    sim.proc.on(/^apt-cache madison/, { stdout: '' });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await assert.rejects(packagesStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: StepError) => {
      assert.equal(e.retryable, true);
      assert.match(e.message, /not available: apt-get update could not fetch http:\/\/198\.18\.140\.1:8080\/debian\/InRelease Could not connect/);
      assert.match(e.hint ?? '', /repository was not reachable/);
      return true;
    });
  });

  it('host.packageLockWait is how long each apt run waits for the dpkg lock', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const config = { ...sim.config, agent: { ...sim.config.agent, host: { ...sim.config.agent.host, packageLockWait: 15_000 } } };
    const ctx = stepContext(sim.files, sim.proc, config, sim.facts);
    const r = await packagesStep.check(ctx);
    await packagesStep.apply(ctx, r.state === 'change' ? r.changes : []);
    const apt = sim.proc.runs().filter((c) => c.startsWith('apt-get'));
    assert.ok(apt.length > 0);
    for (const c of apt) assert.match(c, / -o DPkg::Lock::Timeout=15( |$)/, c);
  });

  it('an interrupted dpkg run (crashed agent) is finished with dpkg --configure -a, then the install resumes', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    let interrupted = true;
    sim.proc.on(/^apt-get install /, () => (interrupted ? { exitCode: 100, stderr: "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem." } : undefined));
    sim.proc.on(/^dpkg --configure -a/, () => ((interrupted = false), {}));
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await packagesStep.apply(ctx, r.state === 'change' ? r.changes : []);
    const runs = sim.proc.runs().filter((c) => /^(apt-get install|dpkg)/.test(c)).map((c) => c.split(' ').slice(0, 3).join(' '));
    assert.deepEqual(runs, ['apt-get install -y', 'dpkg --configure -a', 'apt-get install -y']);
    assert.equal((await packagesStep.check(ctx)).state, 'ok', 'installed after the resumed transaction');
  });

  it('a package dpkg was killed while unpacking (reinstreq): dpkg --configure -a cannot fix it, the install that follows reinstalls it', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    let journal = true;
    sim.proc.on(/^apt-get install /, () => (journal ? { exitCode: 100, stderr: "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem." } : undefined));
    sim.proc.on(/^dpkg --configure -a/, () => ((journal = false), { exitCode: 1, stdout: 'dpkg: error processing package kubelet (--configure):\n package is in a very bad inconsistent state; you should\n reinstall it before attempting configuration\nErrors were encountered while processing:\n kubelet\n' }));
    // kubelet half-installed with its reinstall-required flag, until something reinstalls it
    let broken = true;
    sim.proc.on(/^dpkg-query -W [\s\S]*kubelet/, () => (broken ? { exitCode: 1, stdout: 'kubelet\t1.32.11-1.1\tiHR\n' } : undefined));
    sim.proc.on(/^apt-get install .*--reinstall/, () => (journal ? undefined : ((broken = false), undefined)));
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await packagesStep.apply(ctx, r.state === 'change' ? r.changes : []);
    const runs = sim.proc.runs().filter((c) => /^(apt-get install|dpkg )/.test(c)).map((c) => c.split(' ').slice(0, 3).join(' ') + (c.includes('--reinstall') ? ' --reinstall' : ''));
    assert.deepEqual(runs, ['apt-get install -y --reinstall', 'dpkg --configure -a', 'apt-get install -y --reinstall']);
    assert.equal((await packagesStep.check(ctx)).state, 'ok', 'installed after the resumed transaction');
  });

  it('a failed dpkg run under apt names dpkg\'s own reason (apt prints it on stdout)', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    sim.proc.on(/^apt-get install /, {
      exitCode: 100,
      stdout: 'Setting up kubelet (1.32.11-1.1) ...\ndpkg: error processing package kubelet (--configure):\n installed kubelet package post-installation script subprocess returned error exit status 1\nErrors were encountered while processing:\n kubelet\n',
      stderr: 'E: Sub-process /usr/bin/dpkg returned an error code (1)',
    });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await assert.rejects(packagesStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: StepError) => /dpkg returned an error code \(1\)\ndpkg: error processing package kubelet \(--configure\):\ninstalled kubelet package post-installation script subprocess returned error exit status 1/.test(e.message));
  });

  it('a key URL answering 503 is retryable, 404 is not', async () => {
    for (const [path, retryable] of [['/busy.key', true], ['/nope.key', false]] as const) {
      const sim = simulateHost('debian');
      after(sim.cleanup);
      sim.config.agent.repositories.kubernetes = { key: `http://127.0.0.1:19700${path}` };
      const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
      const r = await packagesStep.check(ctx);
      await assert.rejects(packagesStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: StepError) => e.retryable === retryable && e.message.startsWith(`packages: repositories.kubernetes.key: repository key http://127.0.0.1:19700${path}: HTTP `));
      assert.equal(await sim.files.exists('/etc/apt/sources.list.d/kubernetes.list'), false, 'nothing written');
    }
  });

  it('a held package that was unheld is held again, nothing reinstalled', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    await runTwice(packagesStep, ctx, sim.proc);
    sim.held.delete('kubeadm');
    const r = await packagesStep.check(ctx);
    assert.deepEqual(r.state === 'change' && r.changes, [{ kind: 'value', name: 'hold kubeadm', live: 'no', wanted: 'yes' }]);
    sim.proc.reset();
    await packagesStep.apply(ctx, r.state === 'change' ? r.changes : []);
    assert.deepEqual(sim.proc.runs(), ['apt-mark hold kubeadm']);
  });

  it('distro containerd on Debian installs containerd and runc', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const c = testConfig({ ...sim.config.agent, containerd: { source: 'distro', registryMirrors: {} } });
    const ctx = stepContext(sim.files, sim.proc, c, sim.facts);
    await runTwice(packagesStep, ctx, sim.proc);
    assert.equal(sim.installed.get('containerd'), '1.6.20~ds1-1+b1');
    assert.equal(sim.installed.get('runc'), '1.1.5+ds1-1+deb12u1');
    assert.equal(await sim.files.exists('/etc/apt/sources.list.d/docker.list'), false);
  });

  it('an unsupported distribution fails naming it', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, sim.config, { ...debianFacts, family: undefined, osId: 'alpine', osName: 'Alpine Linux v3.20' });
    await assert.rejects(packagesStep.check(ctx), /Alpine Linux v3\.20 \(ID=alpine\) is not a supported distribution/);
  });
});

describe('packages: dnf holds (versionlock) for dnf 4 and dnf5', () => {
  it('reads dnf 4\'s lock list and dnf5\'s versionlock.toml', async () => {
    const { lockedVersions } = await import('../../../src/steps/host/packages/versionlock.js');
    assert.deepEqual([...lockedVersions('# added by joinagent\nkubelet-0:1.32.11-150500.1.1.*\n!kubectl-0:1.32.12-150500.1.1.*\ncri-tools-1.32.0-150500.1.1.x86_64\n', '/etc/dnf/plugins/versionlock.list')], [['kubelet', '1.32.11-150500.1.1'], ['cri-tools', '1.32.0-150500.1.1']]);
    const toml = 'version = "1.0"\n[[packages]]\nname = "kubeadm"\n[[packages.conditions]]\nkey = "evr"\ncomparator = "="\nvalue = "0:1.32.11-150500.1.1"\n';
    assert.deepEqual([...lockedVersions(toml, '/etc/dnf/versionlock.toml')], [['kubeadm', '1.32.11-150500.1.1']]);
  });
  it('dnf5 has versionlock built in: no plugin package wanted', () => {
    assert.ok(!wantedPackages(conf('docker'), { family: 'rhel' }, { dnf5: true }).some((w) => w.name.includes('versionlock')));
  });
  it('a lock in the other dnf\'s file holds nothing: dnf5 reads only versionlock.toml', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    await runTwice(packagesStep, ctx, sim.proc);
    assert.equal((await packagesStep.check(ctx)).state, 'ok', 'dnf 4: held by its list');
    await sim.files.write('/usr/bin/dnf5', '');
    symlinkSync('dnf5', sim.files.resolve('/usr/bin/dnf'));
    const r = await packagesStep.check(ctx);
    assert.deepEqual(r.state === 'change' && r.changes.map((c) => (c.kind === 'value' ? c.name : c.kind)), ['hold kubelet', 'hold kubeadm', 'hold kubectl', 'hold cri-tools']);
  });
});
