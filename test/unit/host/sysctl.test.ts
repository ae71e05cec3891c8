import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import type { Files } from '../../../src/host/files.js';
import { COMMENT_PREFIX } from '../../../src/host/markers.js';
import { laterOverrides, parseSysctlFile, renderSysctlConf, SYSCTLS, sysctlStep, wantedSysctls } from '../../../src/steps/host/sysctl.js';
import { stepContext, testConfig } from '../../helpers/fakes.js';
import { runTwice, warnings } from './run-twice.js';
import { simulateHost } from './sim-host.js';

const ours = { path: '/etc/sysctl.d/k8s.conf', text: renderSysctlConf() };

describe('sysctl: desired state', () => {
  it('renders the three keys at 1', () => {
    assert.deepEqual([...parseSysctlFile(renderSysctlConf())], [
      ['net.bridge.bridge-nf-call-iptables', '1'],
      ['net.bridge.bridge-nf-call-ip6tables', '1'],
      ['net.ipv4.ip_forward', '1'],
    ]);
  });
  it('parses slash keys, the ignore-errors dash, comments', () => {
    assert.deepEqual([...parseSysctlFile('# c\n; c\n-net/ipv4/ip_forward=0\n kernel.pid_max = 4194304 \n')], [['net.ipv4.ip_forward', '0'], ['kernel.pid_max', '4194304']]);
  });
  const table: [string, { path: string; text: string }[], string[]][] = [
    // "99-" sorts before "k8s" ('9' < 'k'): systemd-sysctl applies our file after it, so ours wins
    ['a 99-*.conf sorts before k8s.conf: no override', [ours, { path: '/etc/sysctl.d/99-disable-forwarding.conf', text: 'net.ipv4.ip_forward = 0\n' }], []],
    ['a later name in /usr/lib wins', [ours, { path: '/usr/lib/sysctl.d/zz-hardening.conf', text: 'net.ipv4.ip_forward=0\n' }], ['/usr/lib/sysctl.d/zz-hardening.conf net.ipv4.ip_forward=0']],
    ['kubernetes.conf sorts after k8s.conf', [ours, { path: '/etc/sysctl.d/kubernetes.conf', text: 'net.bridge.bridge-nf-call-iptables=0\n' }], ['/etc/sysctl.d/kubernetes.conf net.bridge.bridge-nf-call-iptables=0']],
    ['/etc/sysctl.conf is applied last by sysctl --system', [{ path: '/etc/sysctl.conf', text: 'net.ipv4.ip_forward=0\n' }, ours], ['/etc/sysctl.conf net.ipv4.ip_forward=0']],
    ['a later file agreeing with us is fine', [ours, { path: '/etc/sysctl.d/zz.conf', text: 'net.ipv4.ip_forward = 1\n' }], []],
    ['a shadowed /usr/lib file of the same name does not count', [ours, { path: '/etc/sysctl.d/zz.conf', text: '' }, { path: '/usr/lib/sysctl.d/zz.conf', text: 'net.ipv4.ip_forward=0\n' }], []],
    ['non-.conf files are not read by sysctl', [ours, { path: '/etc/sysctl.d/zz.conf.bak', text: 'net.ipv4.ip_forward=0\n' }], []],
    // issue 17 item 12's class: "key in SYSCTLS" was true for Object.prototype members
    ['keys named like Object.prototype members are not ours', [ours, { path: '/etc/sysctl.d/zz.conf', text: 'constructor = 0\ntoString = 1\n' }], []],
  ];
  for (const [name, files, expected] of table) {
    it(name, () => assert.deepEqual(laterOverrides(files).map((o) => `${o.path} ${o.key}=${o.value}`), expected));
  }
});

// What `sysctl --system` (and systemd-sysctl) leave at boot, worked out here on its own:
// one file per name across the directories (the first directory wins), applied in name
// order, then /etc/sysctl.conf; a symlink is read through.
async function valuesAtBoot(files: Files): Promise<Map<string, string>> {
  const byName = new Map<string, string>();
  for (const dir of ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d']) {
    for (const n of await files.list(dir)) if (n.endsWith('.conf') && !byName.has(n)) byName.set(n, `${dir}/${n}`);
  }
  const order = [...byName.keys()].sort().map((n) => byName.get(n)!);
  if (await files.exists('/etc/sysctl.conf')) order.push('/etc/sysctl.conf');
  const out = new Map<string, string>();
  for (const f of order) for (const [k, v] of parseSysctlFile((await files.read(f)) ?? '')) out.set(k, v);
  return out;
}

describe('sysctl step', () => {
  // issue 17 item 3: a later file setting ip_forward = 0 was only a warning; the run
  // exited 0 and after a reboot the value was 0
  it('neutralises every file that would win at boot, says so, and then the keys are 1 at boot; second run ok', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    await sim.files.write('/proc/sys/net/bridge/bridge-nf-call-ip6tables', '1\n');
    await sim.files.write('/etc/sysctl.d/99-sysctl.conf', 'net.ipv4.ip_forward = 0\n');
    await sim.files.write('/etc/sysctl.conf', '#net.ipv4.ip_forward=1\nnet.bridge.bridge-nf-call-iptables = 0\nkernel.pid_max = 4194304\n');
    await sim.files.write('/usr/lib/sysctl.d/zz-hardening.conf', '# vendor\nnet.ipv4.ip_forward=0\nnet.ipv4.tcp_syncookies = 1\n');
    await sim.files.write('/etc/sysctl.d/kubernetes.conf', '-net/bridge/bridge-nf-call-ip6tables = 0\n');
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const { first } = await runTwice(sysctlStep, ctx, sim.proc);
    assert.deepEqual(first.state === 'change' && first.changes.map((c) => (c.kind === 'action' ? c.description : c.kind === 'file' ? c.path : '')), [
      '/etc/sysctl.d/k8s.conf',
      '/etc/sysctl.d/kubernetes.conf',
      '/etc/sysctl.d/zz-hardening.conf',
      '/etc/sysctl.conf',
      'run: sysctl -w net.bridge.bridge-nf-call-iptables=1',
      'run: sysctl -w net.ipv4.ip_forward=1',
    ]);
    assert.equal(await sim.files.read('/proc/sys/net/ipv4/ip_forward'), '1\n');
    const boot = await valuesAtBoot(sim.files);
    for (const k of Object.keys(SYSCTLS)) assert.equal(boot.get(k), '1', `${k} at boot`);
    assert.equal(boot.get('kernel.pid_max'), '4194304', 'other settings of those files stay');
    assert.equal(boot.get('net.ipv4.tcp_syncookies'), '1');
    assert.equal(await sim.files.read('/etc/sysctl.conf'), `#net.ipv4.ip_forward=1\n${COMMENT_PREFIX}net.bridge.bridge-nf-call-iptables = 0\nkernel.pid_max = 4194304\n`);
    assert.equal(await sim.files.read('/usr/lib/sysctl.d/zz-hardening.conf'), '# vendor\nnet.ipv4.ip_forward=0\nnet.ipv4.tcp_syncookies = 1\n', "the package's file is not edited");
    const said = warnings(ctx).join('\n');
    assert.match(said, /sysctl: \/etc\/sysctl\.conf sets net\.bridge\.bridge-nf-call-iptables = 0 after \/etc\/sysctl\.d\/k8s\.conf \(it would win at the next boot\): joinagent comments that line out/);
    assert.match(said, /sysctl: \/usr\/lib\/sysctl\.d\/zz-hardening\.conf sets net\.ipv4\.ip_forward = 0 .*: joinagent masks it with \/etc\/sysctl\.d\/zz-hardening\.conf, a copy with that line commented out/);
  });
  it('a symlink in /etc/sysctl.d (99-sysctl.conf -> ../sysctl.conf) is edited through, not replaced', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    await sim.files.write('/etc/sysctl.conf', 'net.ipv4.ip_forward = 0\n');
    mkdirSync(sim.files.resolve('/etc/sysctl.d'), { recursive: true });
    symlinkSync('../sysctl.conf', sim.files.resolve('/etc/sysctl.d/zz-sysctl.conf'));
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    await runTwice(sysctlStep, ctx, sim.proc);
    assert.equal(lstatSync(sim.files.resolve('/etc/sysctl.d/zz-sysctl.conf')).isSymbolicLink(), true);
    assert.equal(await sim.files.read('/etc/sysctl.conf'), `${COMMENT_PREFIX}net.ipv4.ip_forward = 0\n`);
    assert.equal((await valuesAtBoot(sim.files)).get('net.ipv4.ip_forward'), '1');
  });
  it('a missing bridge key fails pointing at br_netfilter', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await sysctlStep.check(ctx);
    assert.ok(r.state === 'change' && r.changes.some((c) => c.kind === 'action' && c.description === 'run: sysctl -w net.bridge.bridge-nf-call-iptables=1'));
    await assert.rejects(sysctlStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: Error & { hint?: string }) => /cannot stat/.test(e.message) && /br_netfilter/.test(e.hint ?? ''));
  });
});

describe('sysctl: IPv6 forwarding where IPv6 is in use', () => {
  const cfg = (endpoint: string, networking = {}) => {
    const c = testConfig({ networking });
    return { ...c, join: { ...c.join, apiServerEndpoint: endpoint } };
  };
  it('an IPv4-only cluster gets the runbook\'s three keys; IPv6 endpoint or subnet adds forwarding for all and default', () => {
    assert.deepEqual(Object.keys(wantedSysctls(cfg('192.168.10.100:6443'))), ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables', 'net.ipv4.ip_forward']);
    const v6 = ['net.ipv6.conf.all.forwarding', 'net.ipv6.conf.default.forwarding'];
    assert.deepEqual(Object.keys(wantedSysctls(cfg('[fd00::1]:6443'))).slice(3), v6);
    assert.deepEqual(Object.keys(wantedSysctls(cfg('192.168.10.100:6443', { podSubnet: '10.244.0.0/16,fd00:10:244::/56' }))).slice(3), v6);
  });
  it('sets both keys live and in k8s.conf, warns when an RA-learned default route would expire; second run ok', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    sim.config = { ...sim.config, join: { ...sim.config.join, apiServerEndpoint: '[fd00::1]:6443' } };
    for (const k of ['all', 'default', 'eth0']) await sim.files.write(`/proc/sys/net/ipv6/conf/${k}/forwarding`, '0\n');
    await sim.files.write('/proc/sys/net/ipv6/conf/eth0/accept_ra', '1\n');
    await sim.files.write('/proc/sys/net/bridge/bridge-nf-call-iptables', '1\n');
    await sim.files.write('/proc/sys/net/bridge/bridge-nf-call-ip6tables', '1\n');
    await sim.files.write('/proc/sys/net/ipv4/ip_forward', '1\n');
    sim.proc.on('ip -6 -j route show default', { stdout: '[{"dst":"default","gateway":"fe80::1","dev":"eth0","protocol":"ra","metric":1024}]' });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const { first } = await runTwice(sysctlStep, ctx, sim.proc);
    assert.deepEqual(first.state === 'change' && first.changes.map((c) => (c.kind === 'action' ? c.description : c.kind === 'file' ? c.path : '')), [
      '/etc/sysctl.d/k8s.conf',
      'run: sysctl -w net.ipv6.conf.all.forwarding=1',
      'run: sysctl -w net.ipv6.conf.default.forwarding=1',
    ]);
    assert.match((await sim.files.read('/etc/sysctl.d/k8s.conf')) ?? '', /^net\.ipv6\.conf\.all\.forwarding = 1\nnet\.ipv6\.conf\.default\.forwarding = 1\n$/m);
    assert.equal(await sim.files.read('/proc/sys/net/ipv6/conf/default/forwarding'), '1\n');
    assert.deepEqual(warnings(ctx).filter((w) => /router advertisements/.test(w)), [
      'sysctl: IPv6 forwarding makes the kernel ignore router advertisements on eth0 (accept_ra = 1), where this node\'s IPv6 default route comes from: it expires after its lifetime',
    ]);
  });
});
