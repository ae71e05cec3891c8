import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { HOSTS_BEGIN, HOSTS_END, hostsBlock, hostsStep, manageEtcHosts, renderHosts, sourcesBeforeFiles } from '../../../src/steps/host/hosts.js';
import { COMMENT_PREFIX, KEPT_SUFFIX } from '../../../src/host/markers.js';
import { undoMarkers } from '../../../src/ops/reset/revert-text.js';
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

// Issue 17 item 2: a foreign line above the block that maps a managed name to another
// address is what the name resolves to (the files resolver takes the first match).
describe('hosts: foreign lines that map a managed name elsewhere', () => {
  const text = '127.0.0.1\tlocalhost\n10.99.0.5 k8s-ctr\n10.99.0.6\tK8S-W1 backup-server   # old lab\n192.168.10.100 k8s-ctr\n10.0.0.9 nas\n';
  const out = renderHosts(text, entries, 'k8s-w9');
  it('are commented out, marked; the other names of such a line stay resolvable', () => {
    assert.equal(
      out,
      '127.0.0.1\tlocalhost\n' +
        `${COMMENT_PREFIX}10.99.0.5 k8s-ctr\n` +
        `${COMMENT_PREFIX}10.99.0.6\tK8S-W1 backup-server   # old lab\n` +
        `10.99.0.6\tbackup-server${KEPT_SUFFIX}\n` +
        '192.168.10.100 k8s-ctr\n10.0.0.9 nas\n' +
        block,
    );
  });
  it('every managed name then resolves to its managed address (first match, case-insensitive)', () => {
    for (const e of entries) for (const n of e.names) assert.equal(firstMatch(out, n), e.ip, n);
    assert.equal(firstMatch(out, 'backup-server'), '10.99.0.6');
    assert.equal(firstMatch(out, 'nas'), '10.0.0.9');
  });
  it('re-rendering is stable', () => assert.equal(renderHosts(out, entries, 'k8s-w9'), out));
  it('reset by markers gives the original back', () => assert.equal(undoMarkers(out), text));
  it('the step says which line it comments out', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    await sim.files.write('/etc/hosts', text);
    const ctx = stepContext(sim.files, sim.proc, testConfig({ ...sim.config.agent, host: { ...sim.config.agent.host, hosts: entries } }), sim.facts);
    await runTwice(hostsStep, ctx, sim.proc);
    assert.equal(firstMatch((await sim.files.read('/etc/hosts'))!, 'k8s-ctr'), '192.168.10.100');
    assert.match(warnings(ctx).join('\n'), /\/etc\/hosts line 2 "10\.99\.0\.5 k8s-ctr" maps k8s-ctr to 10\.99\.0\.5, not to 192\.168\.10\.100 \(host\.hosts\): joinagent comments it out/);
  });
});

describe('hosts: nsswitch order', () => {
  it('warns when another source answers before /etc/hosts', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    await sim.files.write('/etc/nsswitch.conf', 'passwd: files\nhosts:   dns [!UNAVAIL=return] files myhostname\n');
    const ctx = stepContext(sim.files, sim.proc, testConfig({ ...sim.config.agent, host: { ...sim.config.agent.host, hosts: entries } }), sim.facts);
    await hostsStep.check(ctx);
    assert.match(warnings(ctx).join('\n'), /\/etc\/nsswitch\.conf asks dns before files for host names/);
  });
  it('says nothing for the usual order', () => {
    assert.equal(sourcesBeforeFiles('hosts: files mdns4_minimal [NOTFOUND=return] dns myhostname\n'), undefined);
    assert.equal(sourcesBeforeFiles('hosts: resolve [!UNAVAIL=return] files\n'), 'resolve');
  });
});

// How glibc's files backend answers gethostbyname: the first non-comment line naming it.
function firstMatch(hosts: string, name: string): string | undefined {
  for (const line of hosts.split('\n')) {
    const f = line.split('#')[0].trim().split(/\s+/);
    if (f.length > 1 && f.slice(1).some((n) => n.toLowerCase() === name.toLowerCase())) return f[0];
  }
  return undefined;
}

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
