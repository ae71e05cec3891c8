import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupVerdict, type CgroupFacts } from '../../../src/runtime/cgroup-driver.js';

// The host-side cgroup driver verdict: kubelet's driver, containerd's runc, the host.
const base: CgroupFacts = { driver: 'systemd', configured: false, systemdInit: true, mode: 'v2', containerdSystemdCgroup: true };
const verdict = (over: Partial<CgroupFacts>) => cgroupVerdict({ ...base, ...over });

describe('cgroup driver verdict', () => {
  it('systemd everywhere on cgroup v2: nothing to say', () => {
    const v = verdict({});
    assert.deepEqual([v.errors, v.warnings], [[], []]);
    assert.equal(v.summary, 'systemd (default), containerd SystemdCgroup = true, cgroup v2, init systemd');
    assert.match(verdict({ containerdMajor: 2 }).summary, /kubelet takes it from containerd over the CRI$/);
  });
  it('containerd on cgroupfs while kubelet uses systemd: an error naming both and the setting', () => {
    const v = verdict({ containerdSystemdCgroup: false });
    assert.equal(v.errors.length, 1);
    assert.match(v.errors[0].message, /containerd's runc uses the cgroupfs cgroup driver \(SystemdCgroup = false\), but kubelet's is systemd \(the default/);
  });
  it('cgroupfs configured: matching runc is fine, but a systemd host gets the two-managers warning', () => {
    const v = verdict({ driver: 'cgroupfs', configured: true, containerdSystemdCgroup: false });
    assert.deepEqual(v.errors, []);
    assert.match(v.warnings[0].message, /two cgroup managers/);
  });
  it('systemd driver without systemd as init: an error', () => {
    assert.match(verdict({ systemdInit: false }).errors[0].message, /needs systemd as the init system/);
  });
  it('cgroup v1 and hybrid: warned (maintenance mode since v1.31)', () => {
    assert.match(verdict({ mode: 'hybrid' }).warnings[0].message, /cgroup v1 \(hybrid\).*maintenance mode in v1\.31/);
    assert.equal(verdict({ mode: 'v1' }).warnings.length, 1);
  });
  it('a joined kubelet whose config disagrees with runc: an error unless kubelet.cgroupDriver will correct it', () => {
    assert.match(verdict({ kubeletFileDriver: 'cgroupfs' }).errors[0].message, /config\.yaml\) says cgroupDriver cgroupfs, containerd's runc uses systemd/);
    assert.deepEqual(verdict({ kubeletFileDriver: 'cgroupfs', configured: true }).errors, []);
  });
  it('a runtime that does not report SystemdCgroup is not counted as a mismatch', () => {
    assert.deepEqual(verdict({ containerdSystemdCgroup: undefined, kubeletFileDriver: 'cgroupfs' }).errors, []);
  });
});

describe('cgroup-driver step', () => {
  it('before containerd runs (a plan on a fresh host) there is nothing to compare: skipped, not failed', async () => {
    const { cgroupDriverStep } = await import('../../../src/steps/runtime/cgroup-driver.js');
    const { FakeProc, stepContext, tempRoot } = await import('../../helpers/fakes.js');
    const t = tempRoot();
    try {
      const r = await cgroupDriverStep(['containerd-running']).check(stepContext(t.files, new FakeProc()));
      assert.deepEqual(r, { state: 'skip', reason: 'containerd is not running yet: checked once it runs' });
    } finally {
      t.cleanup();
    }
  });
});
