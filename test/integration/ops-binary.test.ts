import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { hostFiles } from '../../src/host/files.js';
import { paths } from '../../src/host/paths.js';
import { buildFakeHost } from '../helpers/fake-host.js';
import { buildPreparedHost, CREATED, FOREIGN_HOSTS_LINE, foreignEdits, ORIGINAL } from '../helpers/prepared-host.js';
import { treeHash } from '../helpers/tree-hash.js';

// snapshot, diff and reset through the BUILT binary, on temp roots, with tiny fake tools
// on PATH (ctr, kubeadm, systemctl ...) that log how they were called.
const BIN = path.resolve('dist/joinagent');
const FIXTURES = path.resolve('test/fixtures/snapshots');
let work: string;
let bin: string;
let toolLog: string;

before(() => {
  assert.ok(existsSync(BIN), `${BIN} is missing: run 'bash build.sh' first`);
  work = mkdtempSync(path.join(os.tmpdir(), 'ja-ops-'));
  bin = path.join(work, 'bin');
  toolLog = path.join(work, 'tools.log');
  mkdirSync(bin);
  const tool = (name: string, body: string): void => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${toolLog}\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  tool('ctr', 'case "$*" in *"images ls -q"*) printf "registry.k8s.io/pause:3.10\\nregistry.k8s.io/kube-proxy:v1.32.11\\n";; *"containers ls"*) printf "CONTAINER IMAGE RUNTIME\\nab registry.k8s.io/kube-proxy:v1.32.11 io.containerd.runc.v2\\n";; esac');
  tool('kubeadm', 'echo "[reset] Stopping the kubelet service"');
  tool('systemctl', 'case "$*" in "is-active firewalld") echo inactive; exit 3;; esac');
  for (const t of ['getenforce']) tool(t, 'echo Permissive');
  for (const t of ['setenforce', 'apt-mark', 'apt-get']) tool(t, ':');
});
after(() => rmSync(work, { recursive: true, force: true }));

function ja(args: string[]): { code: number; stdout: string; stderr: string } {
  // PATH holds only the fake tools: the binary needs no Node, and no real tool is reached
  const r = spawnSync(BIN, args, { env: { PATH: bin, HOME: work }, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000, cwd: work });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function tools(): string[] {
  return existsSync(toolLog) ? readFileSync(toolLog, 'utf8').trim().split('\n') : [];
}

test('snapshot of a temp root with fake /proc, /sys and tools', () => {
  const root = path.join(work, 'snap-root');
  buildFakeHost(root, { joined: true });
  const out = path.join(work, 'snap.json');
  const r = ja(['--root', root, 'snapshot', '--out', out, '--label', 'after-join']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^snapshot: .*snap\.json \(13 views\)$/m);
  const s = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(s.label, 'after-join');
  assert.deepEqual(Object.keys(s.views.images.items), ['registry.k8s.io/kube-proxy:v1.32.11', 'registry.k8s.io/pause:3.10']);
  assert.equal(s.views.containers.items['registry.k8s.io/kube-proxy:v1.32.11'], '1 container(s)');
  assert.equal(s.views.listening.items['tcp 0.0.0.0:10250'], 'kubelet');
  assert.equal(s.views.sysctls.items['net.ipv4.ip_forward'], '1');
  assert.ok('/etc/kubernetes/kubelet.conf' in s.views['files:/etc/kubernetes'].items);
  assert.equal(s.views.addresses.items.eth0, 'up mtu 1500 02:00:00:00:00:11', 'no ip tool: /sys/class/net');
});

test('diff of fixture snapshots: real changes shown, noise ignored, --json', () => {
  const r = ja(['diff', path.join(FIXTURES, 'before.json'), path.join(FIXTURES, 'after.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}\+ tcp6 \[::\]:10250 +kubelet$/m);
  assert.match(r.stdout, /^ {2}\+ \/etc\/kubernetes\/kubelet\.conf /m);
  assert.match(r.stdout, /^ {2}~ net\.ipv4\.ip_forward +0 -> 1$/m);
  assert.match(r.stdout, /^ {2}\+ kube-system\/kube-proxy-7xk2p kube-proxy +running/m);
  assert.doesNotMatch(r.stdout, /kernel\.random|fs\.dentry-state|session-\d|:41234|root@pts/);
  const j = JSON.parse(ja(['diff', '--json', path.join(FIXTURES, 'before.json'), path.join(FIXTURES, 'after.json')]).stdout);
  assert.equal(j.differences, 43);
  assert.deepEqual(j.views.find((v: { view: string }) => v.view === 'sysctls').changed.map((c: { key: string }) => c.key), ['net.bridge.bridge-nf-call-iptables', 'net.ipv4.conf.eth0.forwarding', 'net.ipv4.ip_forward']);
});

test("diff with no arguments compares the agent's before/after pair", () => {
  const root = path.join(work, 'diff-root');
  const none = ja(['--root', root, 'diff']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /the agent has no before\/after snapshots yet .*before\.json is missing/);
  mkdirSync(path.join(root, paths.snapshotDir), { recursive: true });
  copyFileSync(path.join(FIXTURES, 'before.json'), path.join(root, paths.snapshotBefore));
  copyFileSync(path.join(FIXTURES, 'after.json'), path.join(root, paths.snapshotAfter));
  const r = ja(['--root', root, 'diff']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^--- before .*\(\/var\/lib\/joinagent\/snapshots\/before\.json\)$/m);
  assert.match(r.stdout, /^43 differences;/m);
  const bad = ja(['diff', path.join(FIXTURES, 'before.json'), path.join(work, 'nope.json')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /nope\.json: no such file/);
});

test('reset without a terminal and without --yes changes nothing and exits 2', async () => {
  const root = path.join(work, 'reset-notty');
  await buildPreparedHost(root, hostFiles(root));
  const h = treeHash(root);
  rmSync(toolLog, { force: true });
  const r = ja(['--root', root, 'reset', '--all']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not on a terminal and no --yes: nothing was changed/);
  assert.equal(treeHash(root), h);
  assert.deepEqual(tools().filter((l) => !/^(systemctl is-active|getenforce)/.test(l)), [], 'only read-only probes ran');
});

test('reset --all --dry-run shows the plan and changes nothing', async () => {
  const root = path.join(work, 'reset-dry');
  await buildPreparedHost(root, hostFiles(root));
  foreignEdits(root);
  const h = treeHash(root);
  rmSync(toolLog, { force: true });
  const r = ja(['--root', root, 'reset', '--all', '--purge-packages', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^joinagent reset would:$/m);
  assert.match(r.stdout, /restore \/etc\/fstab \(unchanged since joinagent wrote it/);
  assert.match(r.stdout, /restore \/etc\/hosts \(undo joinagent's edits, keep later changes/);
  assert.match(r.stdout, /remove \/etc\/crictl\.yaml \(joinagent created it\)/);
  assert.match(r.stdout, /re-enable the firewall joinagent disabled/);
  assert.match(r.stdout, /^ {2}- \/etc\/containerd\/config\.toml: changed since joinagent's last write/m);
  assert.match(r.stdout, /^--dry-run: nothing was changed$/m);
  assert.equal(treeHash(root), h);
  assert.ok(!tools().some((l) => !/^(systemctl is-active|getenforce)/.test(l)), `only read-only probes ran: ${tools().join('; ')}`);
});

test('reset --all --yes restores the prepared host, keeps foreign edits, and status data says not joined', async () => {
  const root = path.join(work, 'reset-all');
  await buildPreparedHost(root, hostFiles(root));
  foreignEdits(root);
  rmSync(toolLog, { force: true });
  const r = ja(['--root', root, 'reset', '--all', '--purge-packages', '--yes']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const read = (p: string) => (existsSync(path.join(root, p)) ? readFileSync(path.join(root, p), 'utf8') : null);
  assert.equal(read('/etc/fstab'), ORIGINAL['/etc/fstab']);
  assert.equal(read('/etc/selinux/config'), ORIGINAL['/etc/selinux/config']);
  assert.equal(read('/etc/hosts'), ORIGINAL['/etc/hosts'] + FOREIGN_HOSTS_LINE);
  for (const p of CREATED) assert.equal(read(p), null, p);
  assert.equal(read('/etc/containerd/config.toml'), 'version = 2\n# tuned by ops\n');
  assert.equal(JSON.parse(read(paths.state)!).published.joined, false);
  assert.deepEqual(
    tools().filter((l) => !/^(systemctl is-active|getenforce)/.test(l)),
    ['kubeadm reset --force', 'systemctl stop kubelet', 'setenforce 1', 'systemctl enable --now firewalld', 'apt-mark unhold containerd kubeadm kubectl kubelet', 'apt-get purge -y containerd kubeadm kubectl kubelet'],
  );
  assert.match(r.stdout, /^reset: done;/m);
});

// On a terminal reset asks; util-linux `script` gives the binary a real pty.
function jaOnTty(args: string[], answer: string): { code: number; out: string } {
  const cmd = [BIN, ...args].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { PATH: `${bin}:/usr/bin:/bin`, HOME: work, SHELL: '/bin/sh', TERM: 'dumb' }, input: answer, encoding: 'utf8', timeout: 60_000, cwd: work });
  return { code: r.status ?? -1, out: r.stdout };
}

test('reset on a terminal asks; "n" changes nothing, "y" resets', async () => {
  const root = path.join(work, 'reset-tty');
  await buildPreparedHost(root, hostFiles(root));
  const h = treeHash(root);
  rmSync(toolLog, { force: true });
  const no = jaOnTty(['--root', root, 'reset', '--all'], 'n\n');
  assert.equal(no.code, 1, no.out);
  assert.match(no.out, /Proceed\? \[y\/N\]/);
  assert.match(no.out, /not confirmed; nothing was changed/);
  assert.equal(treeHash(root), h);
  const yes = jaOnTty(['--root', root, 'reset', '--all'], 'y\n');
  assert.equal(yes.code, 0, yes.out);
  assert.match(yes.out, /reset: done;/);
  assert.equal(readFileSync(path.join(root, 'etc/fstab'), 'utf8'), ORIGINAL['/etc/fstab']);
});
