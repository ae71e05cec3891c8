import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { permissiveSelinuxConfig, selinuxStep } from '../../../src/steps/host/selinux.js';
import { FakeProc, rockyFacts, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';
import { runTwice } from './run-twice.js';
import { simulateHost } from './sim-host.js';

const RHEL_CONFIG = `
# This file controls the state of SELinux on the system.
# SELINUX= can take one of these three values:
#     enforcing - SELinux security policy is enforced.
SELINUX=enforcing
# SELINUXTYPE= can take one of these three values:
SELINUXTYPE=targeted
`;

describe('selinux: permissiveSelinuxConfig', () => {
  const table: [string, string, string][] = [
    ['stock RHEL file: only the SELINUX line changes', RHEL_CONFIG, RHEL_CONFIG.replace('SELINUX=enforcing', 'SELINUX=permissive')],
    ['already permissive', 'SELINUX=permissive\n', 'SELINUX=permissive\n'],
    ['disabled stays disabled (permissive would re-enable it)', 'SELINUX=disabled\n', 'SELINUX=disabled\n'],
    ['quoted, spaced, trailing comment', 'SELINUX = "enforcing"  # set by kickstart\n', 'SELINUX = permissive  # set by kickstart\n'],
    ['commented example untouched', '#SELINUX=enforcing\nSELINUX=permissive\n', '#SELINUX=enforcing\nSELINUX=permissive\n'],
    ['SELINUXTYPE untouched', 'SELINUXTYPE=enforcing\n', 'SELINUXTYPE=enforcing\n'],
  ];
  for (const [name, input, expected] of table) it(name, () => assert.equal(permissiveSelinuxConfig(input), expected));
});

describe('selinux step', () => {
  it('rhel: setenforce 0 and the config file, other lines kept; second run ok', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    await sim.files.write('/etc/selinux/config', RHEL_CONFIG);
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const { first } = await runTwice(selinuxStep, ctx, sim.proc);
    assert.equal(first.state, 'change');
    assert.equal(await sim.files.read('/etc/selinux/config'), RHEL_CONFIG.replace('SELINUX=enforcing', 'SELINUX=permissive'));
    assert.equal(await sim.files.read('/sys/fs/selinux/enforce'), '0');
  });
  it('is skipped where SELinux is absent (no selinuxfs, no getenforce, no config)', async () => {
    const t = tempRoot();
    after(t.cleanup);
    const r = await selinuxStep.check(stepContext(t.files, new FakeProc(), testConfig()));
    assert.deepEqual(r, { state: 'skip', reason: 'SELinux is not present on this host' });
  });
  it('uses getenforce when selinuxfs is not visible', async () => {
    const t = tempRoot();
    after(t.cleanup);
    const proc = new FakeProc().on('getenforce', { stdout: 'Enforcing\n' });
    const r = await selinuxStep.check(stepContext(t.files, proc, testConfig(), rockyFacts));
    assert.equal(r.state, 'change');
    assert.deepEqual(r.state === 'change' && r.changes, [{ kind: 'value', name: 'SELinux mode', live: 'enforcing', wanted: 'permissive', undo: [['setenforce', '1']] }]);
  });
  it('host.selinux: leave touches nothing', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    const c = testConfig({ ...sim.config.agent, host: { ...sim.config.agent.host, selinux: 'leave' } });
    assert.equal((await selinuxStep.check(stepContext(sim.files, sim.proc, c, sim.facts))).state, 'skip');
  });
  it('a refused setenforce fails with a hint', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    sim.proc.on('setenforce 0', { exitCode: 1, stderr: 'setenforce: SELinux is disabled' });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await selinuxStep.check(ctx);
    await assert.rejects(selinuxStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: Error & { hint?: string }) => /setenforce 0 failed/.test(e.message) && /reboot/.test(e.hint ?? ''));
  });
});
