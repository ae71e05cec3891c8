import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { HOSTS_BEGIN, HOSTS_END, hostsBlock, hostsStep, manageEtcHosts, renderHosts } from '../../../src/steps/host/hosts.js';
import { stepContext, testConfig } from '../../helpers/fakes.js';
import { runTwice, warnings } from './run-twice.js';
import { MESSY_HOSTS, simulateHost } from './sim-host.js';

const entries = [
  { ip: '192.168.10.100', names: ['k8s-ctr'] },
  { ip: '192.168.10.101', names: ['k8s-w1', 'k8s-w1.lab.local'] },
];
const block = hostsBlock(entries);

describe('hosts: renderHosts', () => {
  it('block format', () => assert.equal(block, `${HOSTS_BEGIN}\n192.168.10.100\tk8s-ctr\n192.168.10.101\tk8s-w1 k8s-w1.lab.local\n${HOSTS_END}\n`));
  it('messy file: foreign entries kept, own 127.0.1.1 line dropped, 127.0.2.1 of another name kept', () => {
    const out = renderHosts(MESSY_HOSTS, entries, 'k8s-w1');
    assert.equal(out, MESSY_HOSTS.replace('127.0.1.1\tk8s-w1.lab.local\tk8s-w1\n', '') + block);
  });
  it('re-rendering never duplicates the block', () => {
    const once = renderHosts(MESSY_HOSTS, entries, 'k8s-w1');
    assert.equal(renderHosts(once, entries, 'k8s-w1'), once);
  });
  it('a changed entry replaces the block where it is', () => {
    const text = `127.0.0.1 localhost\n${hostsBlock([{ ip: '10.0.0.1', names: ['old'] }])}10.9.9.9 after\n`;
    assert.equal(renderHosts(text, entries, 'k8s-w1'), `127.0.0.1 localhost\n${block}10.9.9.9 after\n`);
  });
  it('FQDN hostname matches the short name on the loopback line', () => {
    assert.equal(renderHosts('127.0.1.1 k8s-w1\n', entries, 'k8s-w1.lab.local'), block);
  });
  it('keeps the 127.0.1.1 line when the block does not map this host (it would stop resolving)', () => {
    assert.equal(renderHosts('127.0.1.1 k8s-w9\n', entries, 'k8s-w9'), '127.0.1.1 k8s-w9\n' + block);
  });
  it('no entries: block removed, nothing else touched', () => {
    assert.equal(renderHosts(`127.0.0.1 localhost\n${block}`, [], 'k8s-w1'), '127.0.0.1 localhost\n');
    assert.equal(renderHosts(MESSY_HOSTS, [], 'k8s-w1'), MESSY_HOSTS);
  });
  it('empty file gets just the block', () => assert.equal(renderHosts('', entries, 'x'), block));
});

describe('hosts: cloud-init', () => {
  const table: [string, string | null][] = [
    ['manage_etc_hosts: true\n', 'true'],
    ['manage_etc_hosts: template\n', 'template'],
    ["manage_etc_hosts: 'localhost'\n", 'localhost'],
    ['manage_etc_hosts: false\n', null],
    ['# manage_etc_hosts: true\n', null],
  ];
  for (const [text, want] of table) it(JSON.stringify(text), () => assert.equal(manageEtcHosts(text), want));
});

describe('hosts step', () => {
  it('writes the block, warns about cloud-init once; second run ok', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    await sim.files.write('/etc/cloud/cloud.cfg.d/90-hosts.cfg', 'manage_etc_hosts: true\n');
    const ctx = stepContext(sim.files, sim.proc, testConfig({ ...sim.config.agent, host: { ...sim.config.agent.host, hosts: entries } }), sim.facts);
    await runTwice(hostsStep, ctx, sim.proc);
    assert.equal(await sim.files.read('/etc/hosts'), renderHosts(MESSY_HOSTS, entries, 'k8s-w1'));
    assert.equal(warnings(ctx).length, 1);
    assert.match(warnings(ctx)[0], /\/etc\/cloud\/cloud\.cfg\.d\/90-hosts\.cfg sets manage_etc_hosts: true/);
  });
  it('no entries configured and no block: ok without touching the file', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, testConfig(), sim.facts);
    assert.deepEqual(await hostsStep.check(ctx), { state: 'ok', message: 'no host entries configured' });
  });
});
