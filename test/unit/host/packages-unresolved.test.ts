import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { StepError } from '../../../src/engine/step.js';
import { packagesStep } from '../../../src/steps/host/packages/index.js';
import { unresolved } from '../../../src/steps/host/packages/unresolved.js';
import { stepContext } from '../../helpers/fakes.js';
import { simulateHost } from './sim-host.js';

// apt 2.6 (Debian 12) as it answers an install whose dependency no source offers (stdout;
// its stderr says only "E: Unable to correct problems, you have held broken packages.").
const APT_UNMET = `Reading package lists...
Building dependency tree...
Reading state information...
Some packages could not be installed. This may mean that you have
requested an impossible situation or if you are using the unstable
distribution that some required packages have not yet been created
or been moved out of Incoming.
The following information may help to resolve the situation:

The following packages have unmet dependencies:
 kubelet : Depends: iptables (>= 1.4.21) but it is not installable
           Depends: kubernetes-cni (>= 1.2.0) but it is not installable
`;
const APT_HELD = 'E: Unable to correct problems, you have held broken packages.';
const APT_404 = 'E: Failed to fetch http://198.18.16.1:8080/debian/distro/pool/main/iptables_1.8.9-1_amd64.deb  404  Not Found [IP: 198.18.16.1 8080]\nE: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?';
const DNF4 = 'Error: \n Problem: conflicting requests\n  - nothing provides kubernetes-cni >= 1.2.0 needed by kubelet-1.32.11-150500.1.1.x86_64\n(try to add \'--skip-broken\' to skip uninstallable packages or \'--nobest\' to use not only best candidate packages)';

describe('packages: an install apt or dnf cannot resolve', () => {
  it('quotes apt\'s unmet dependencies with the package that needs them, and names what is missing', () => {
    const u = unresolved(`${APT_UNMET}\n${APT_HELD}`)!;
    assert.deepEqual(u.reason, ['kubelet : Depends: iptables (>= 1.4.21) but it is not installable', 'kubelet : Depends: kubernetes-cni (>= 1.2.0) but it is not installable']);
    assert.deepEqual(u.missing, ['iptables', 'kubernetes-cni']);
    assert.equal(u.staleLists, false);
  });

  it('an archive the lists name but the mirror no longer has (404) is stale lists; dnf\'s "nothing provides" is an unmet dependency', () => {
    const s = unresolved(APT_404)!;
    assert.equal(s.staleLists, true);
    assert.match(s.reason[0], /^E: Failed to fetch \S+iptables_1\.8\.9-1_amd64\.deb 404 Not Found/);
    const d = unresolved(DNF4)!;
    assert.deepEqual(d.missing, ['kubernetes-cni']);
    assert.deepEqual(d.reason, ['- nothing provides kubernetes-cni >= 1.2.0 needed by kubelet-1.32.11-150500.1.1.x86_64']);
    // the repository has the package, in a version kubelet does not accept (kubernetes/kubernetes#69489)
    const v = unresolved(' kubelet : Depends: kubernetes-cni (= 0.6.0) but 0.6.0-02 is to be installed\nE: Unable to correct problems, you have held broken packages.')!;
    assert.deepEqual([v.missing, v.reason], [['kubernetes-cni'], ['kubelet : Depends: kubernetes-cni (= 0.6.0) but 0.6.0-02 is to be installed']]);
    assert.equal(unresolved('E: Could not get lock /var/lib/dpkg/lock-frontend'), undefined, 'a lock is not a dependency problem');
    assert.equal(unresolved("E: dpkg was interrupted, you must manually run 'dpkg --configure -a'"), undefined);
  });

  it('debian: empty or stale lists: every source is re-read once and the install tried again', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    let full = false;
    sim.proc.on(/^apt-get update -q -o DPkg::Lock::Timeout=\d+$/, () => ((full = true), undefined));
    sim.proc.on(/^apt-get install /, () => (full ? undefined : { exitCode: 100, stdout: APT_UNMET, stderr: APT_HELD }));
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await packagesStep.apply(ctx, r.state === 'change' ? r.changes : []);
    const runs = sim.proc.runs().filter((c) => /^apt-get (update|install)/.test(c)).map((c) => (/sourcelist=\S*\/(\S+)/.exec(c)?.[1] ? `update ${/sourcelist=\S*\/(\S+)/.exec(c)![1]}` : c.split(' ').slice(0, 2).join(' ')));
    assert.deepEqual(runs, ['update kubernetes.list', 'update docker.list', 'apt-get install', 'apt-get update', 'apt-get install']);
    assert.equal((await packagesStep.check(ctx)).state, 'ok');
  });

  it('debian: a dependency no source offers fails with apt\'s reason, what is missing and where it comes from; not retried', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    sim.proc.on(/^apt-get install /, { exitCode: 100, stdout: APT_UNMET, stderr: APT_HELD });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await assert.rejects(packagesStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: StepError) => {
      assert.match(e.message, /^packages: apt-get install: apt-get install .* exited 100: unmet dependencies \(with freshly read package lists\):\nkubelet : Depends: iptables \(>= 1\.4\.21\) but it is not installable\nkubelet : Depends: kubernetes-cni \(>= 1\.2\.0\) but it is not installable$/);
      assert.doesNotMatch(e.message, /held broken packages/, 'apt\'s misleading last line is not the reason');
      assert.match(e.hint ?? '', /no enabled repository offers iptables, kubernetes-cni \(in a version the packages accept\): .*check with 'apt-cache policy iptables'.*nothing was installed/);
      assert.equal(e.retryable, false);
      return true;
    });
    assert.equal(sim.proc.runs().filter((c) => c.startsWith('apt-get install')).length, 2, 'tried again once after re-reading every source');
    assert.equal(sim.proc.runs().filter((c) => /^apt-get update -q -o DPkg::Lock::Timeout=\d+$/.test(c)).length, 1);
    assert.deepEqual([...sim.installed.keys()], [], 'nothing installed');
  });

  it('rhel: "nothing provides" re-reads the metadata (dnf makecache --refresh) once, then fails quoting dnf', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    sim.proc.on(/^dnf install /, { exitCode: 1, stderr: DNF4 });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await packagesStep.check(ctx);
    await assert.rejects(packagesStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: StepError) => {
      assert.match(e.message, /unmet dependencies \(with freshly read package lists\):\n- nothing provides kubernetes-cni >= 1\.2\.0 needed by kubelet-1\.32\.11-150500\.1\.1\.x86_64/);
      assert.match(e.hint ?? '', /check with 'dnf provides kubernetes-cni'/);
      return true;
    });
    assert.deepEqual(sim.proc.runs().filter((c) => /^dnf (install|makecache)/.test(c)).map((c) => c.split(' ').slice(0, 2).join(' ')), ['dnf install', 'dnf makecache', 'dnf install']);
  });
});
