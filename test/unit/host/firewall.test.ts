import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { LoadedConfig } from '../../../src/config/types.js';
import { firewallStep, missingPorts, parseUfwAdded, ufwPort } from '../../../src/steps/host/firewall.js';
import { debianFacts, FakeProc, rockyFacts, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';
import { runTwice } from './run-twice.js';

const PORTS = ['10250/tcp', '10256/tcp', '30000-32767/tcp', '30000-32767/udp', '8472/udp'];
const cfg = (firewall: LoadedConfig['agent']['host']['firewall']): LoadedConfig => testConfig({ ...testConfig().agent, host: { ...testConfig().agent.host, firewall, firewallPorts: PORTS } });

describe('firewall: desired state', () => {
  it('ufw writes ranges with a colon', () => assert.equal(ufwPort('30000-32767/udp'), '30000:32767/udp'));
  it('missing ports, in each tool notation', () => {
    assert.deepEqual(missingPorts(PORTS, ['10250/tcp', '8472/udp'], 'firewalld'), ['10256/tcp', '30000-32767/tcp', '30000-32767/udp']);
    assert.deepEqual(missingPorts(PORTS, ['10250/tcp', '10256/tcp', '30000:32767/tcp', '30000:32767/udp', '8472/udp'], 'ufw'), []);
  });
  it('parses ufw show added', () => {
    assert.deepEqual(parseUfwAdded('Added user rules (see \'ufw status\' for running firewall):\nufw allow 22/tcp\nufw allow 30000:32767/udp\nufw deny 23\n'), ['22/tcp', '30000:32767/udp']);
  });
});

// firewalld as a tiny state machine: permanent and runtime port sets, reload copies.
function fakeFirewalld(active: boolean): { proc: FakeProc; permanent: Set<string>; runtime: Set<string> } {
  const permanent = new Set(['10250/tcp']);
  const runtime = new Set<string>();
  const proc = new FakeProc();
  const state = { active, enabled: true };
  proc.on(/^systemctl show firewalld/, () => ({ stdout: `LoadState=loaded\nActiveState=${state.active ? 'active' : 'inactive'}\nUnitFileState=${state.enabled ? 'enabled' : 'disabled'}\n` }));
  proc.on('systemctl disable --now firewalld', () => ((state.active = state.enabled = false), {}));
  proc.on('firewall-cmd --permanent --list-ports', () => ({ stdout: [...permanent].join(' ') + '\n' }));
  proc.on('firewall-cmd --list-ports', () => ({ stdout: [...runtime].join(' ') + '\n' }));
  proc.on('firewall-offline-cmd --list-ports', () => ({ stdout: [...permanent].join(' ') + '\n' }));
  const add = (c: { args: string[] }) => (c.args.filter((a) => a.startsWith('--add-port=')).forEach((a) => permanent.add(a.slice(11))), {});
  proc.on(/^firewall-cmd --permanent --add-port/, add);
  proc.on(/^firewall-offline-cmd --add-port/, add);
  proc.on('firewall-cmd --reload', () => (permanent.forEach((p) => runtime.add(p)), {}));
  return { proc, permanent, runtime };
}

describe('firewall step', () => {
  const t = tempRoot();
  after(t.cleanup);
  it('rhel disable: firewalld stopped and disabled in one command; second run ok', async () => {
    const { proc } = fakeFirewalld(true);
    const ctx = stepContext(t.files, proc, cfg('disable'), rockyFacts);
    const { first } = await runTwice(firewallStep, ctx, proc);
    assert.deepEqual(first.state === 'change' && first.changes, [{ kind: 'action', description: 'run: systemctl disable --now firewalld', argv: ['systemctl', 'disable', '--now', 'firewalld'], undo: [['systemctl', 'enable', '--now', 'firewalld']] }]);
  });
  it('rhel open-ports (running): permanent rules then a reload; second run ok', async () => {
    const fw = fakeFirewalld(true);
    const ctx = stepContext(t.files, fw.proc, cfg('open-ports'), rockyFacts);
    const r = await firewallStep.check(ctx);
    assert.deepEqual(r.state === 'change' && r.changes.map((c) => (c.kind === 'action' ? c.description : '')), [
      'run: firewall-cmd --permanent --add-port=10256/tcp --add-port=30000-32767/tcp --add-port=30000-32767/udp --add-port=8472/udp',
      'run: firewall-cmd --reload',
    ]);
    await runTwice(firewallStep, ctx, fw.proc);
    assert.deepEqual([...fw.runtime].sort(), [...PORTS].sort());
  });
  it('rhel open-ports (firewalld stopped): firewall-offline-cmd, no reload', async () => {
    const fw = fakeFirewalld(false);
    const ctx = stepContext(t.files, fw.proc, cfg('open-ports'), rockyFacts);
    await runTwice(firewallStep, ctx, fw.proc);
    assert.deepEqual([...fw.permanent].sort(), [...PORTS].sort());
    assert.deepEqual(fw.runtime.size, 0);
  });
  it('debian open-ports: ufw allow per missing rule, range with a colon', async () => {
    const rules = new Set(['10250/tcp']);
    const proc = new FakeProc()
      .on('ufw status', { stdout: 'Status: active\n' })
      .on('ufw show added', () => ({ stdout: 'Added user rules:\n' + [...rules].map((r) => `ufw allow ${r}\n`).join('') }))
      .on(/^ufw allow /, (c) => (rules.add(c.args[1]), {}));
    const ctx = stepContext(t.files, proc, cfg('open-ports'), debianFacts);
    await runTwice(firewallStep, ctx, proc);
    assert.ok(rules.has('30000:32767/udp'));
    assert.equal(rules.size, 5);
  });
  it('debian disable: ufw disable only while active', async () => {
    let active = true;
    const proc = new FakeProc().on('ufw status', () => ({ stdout: `Status: ${active ? 'active' : 'inactive'}\n` })).on('ufw disable', () => ((active = false), {}));
    await runTwice(firewallStep, stepContext(t.files, proc, cfg('disable'), debianFacts), proc);
    assert.equal(active, false);
  });
  it('open-ports follows the CNI config on the node: Calico VXLAN adds 4789/udp, plan shows it; flannel\'s 8472/udp is not added twice', async () => {
    const cni = tempRoot();
    try {
      const fw = fakeFirewalld(true);
      const ctx = stepContext(cni.files, fw.proc, cfg('open-ports'), rockyFacts);
      await runTwice(firewallStep, ctx, fw.proc);
      assert.ok(!fw.permanent.has('4789/udp'), 'no CNI config yet: the configured ports only');
      await cni.files.write('/etc/cni/net.d/10-calico.conflist', JSON.stringify({ name: 'k8s-pod-network', cniVersion: '0.3.1', plugins: [{ type: 'calico' }, { type: 'portmap' }] }));
      const r = await firewallStep.check(ctx);
      assert.deepEqual(r.state === 'change' && r.changes.map((c) => (c.kind === 'action' ? c.description : '')), ['run: firewall-cmd --permanent --add-port=4789/udp', 'run: firewall-cmd --reload']);
      await runTwice(firewallStep, ctx, fw.proc);
      assert.ok(fw.runtime.has('4789/udp'));
      await cni.files.write('/etc/cni/net.d/10-calico.conflist', JSON.stringify({ name: 'cbr0', plugins: [{ type: 'flannel' }] }));
      assert.equal((await firewallStep.check(ctx)).state, 'ok', '8472/udp is among the configured ports already');
    } finally {
      cni.cleanup();
    }
  });
  it('skipped when no firewall is installed, and on leave', async () => {
    assert.deepEqual(await firewallStep.check(stepContext(t.files, new FakeProc(), cfg('disable'), debianFacts)), { state: 'skip', reason: 'ufw is not installed' });
    const proc = new FakeProc().on(/^systemctl show firewalld/, { stdout: 'LoadState=not-found\n' });
    assert.deepEqual(await firewallStep.check(stepContext(t.files, proc, cfg('open-ports'), rockyFacts)), { state: 'skip', reason: 'firewalld is not installed' });
    assert.deepEqual(await firewallStep.check(stepContext(t.files, fakeFirewalld(true).proc, cfg('leave'), rockyFacts)), { state: 'skip', reason: 'host.firewall: leave' });
  });
});
