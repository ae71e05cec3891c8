import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { hostFiles, readManifest } from '../../../src/host/files.js';
import { paths } from '../../../src/host/paths.js';
import { executeReset, planReset } from '../../../src/ops/reset/reset.js';
import { FakeProc, tempRoot } from '../../helpers/fakes.js';
import { buildPreparedHost, CREATED, FOREIGN_HOSTS_LINE, foreignEdits, ORIGINAL } from '../../helpers/prepared-host.js';
import { treeHash } from '../../helpers/tree-hash.js';

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

function hostTools(readOnly = false): FakeProc {
  return new FakeProc(readOnly)
    .on('kubeadm reset --force', { stdout: '[reset] Deleted contents of the etcd data directory\n' })
    .on('systemctl stop kubelet', {})
    .on('systemctl is-active firewalld', { stdout: 'inactive\n', exitCode: 3 })
    .on('systemctl enable --now firewalld', {})
    .on('getenforce', { stdout: 'Permissive\n' })
    .on('setenforce 1', {})
    .on(/^apt-mark unhold/, {})
    .on(/^apt-get purge -y/, {});
}

async function prepared(): Promise<{ root: string; read: (p: string) => string | null }> {
  const t = tempRoot();
  cleanup = t.cleanup;
  await buildPreparedHost(t.root, t.files);
  return { root: t.root, read: (p) => (existsSync(path.join(t.root, p)) ? readFileSync(path.join(t.root, p), 'utf8') : null) };
}

test('reset --all returns a prepared host to its original files, keeping later foreign edits', async () => {
  const { root, read } = await prepared();
  foreignEdits(root);
  const proc = hostTools();
  const plan = await planReset({ files: hostFiles(root), proc }, { all: true, purgePackages: true });
  const results = await executeReset(plan, () => undefined);
  assert.deepEqual(results.filter((r) => !r.ok), []);

  assert.equal(read('/etc/fstab'), ORIGINAL['/etc/fstab'], 'fstab byte for byte');
  assert.equal(read('/etc/selinux/config'), ORIGINAL['/etc/selinux/config'], 'selinux config byte for byte');
  assert.equal(read('/etc/hosts'), ORIGINAL['/etc/hosts'] + FOREIGN_HOSTS_LINE, 'hosts: original plus the later foreign line');
  for (const p of CREATED) assert.equal(read(p), null, `${p} (created by joinagent) is removed`);
  assert.equal(read('/etc/containerd/config.toml'), 'version = 2\n# tuned by ops\n', 'config.toml edited after joinagent is kept');
  assert.ok(plan.warnings.some((w) => w.startsWith('/etc/containerd/config.toml: changed since joinagent') && w.includes('the original is at /var/lib/joinagent/backup/')), plan.warnings.join('\n'));

  assert.deepEqual(proc.runs(), [
    'kubeadm reset --force',
    'systemctl stop kubelet',
    'setenforce 1',
    'systemctl enable --now firewalld',
    'apt-mark unhold containerd kubeadm kubectl kubelet',
    'apt-get purge -y containerd kubeadm kubectl kubelet',
  ]);
  const state = JSON.parse(read(paths.state)!);
  assert.equal(state.published.joined, false);
  assert.equal(state.joinedAt, undefined);
  assert.equal(state.changeLog, undefined);
  assert.equal(read(paths.joinConfig), null);
  assert.equal(read(paths.backupManifest), null, 'the manifest is archived');
  assert.ok(readdirSync(path.join(root, paths.backupDir)).some((f) => /^manifest\.reset-.*\.json$/.test(f)));
});

test('reset --all without foreign edits restores every edited file byte for byte; a second reset has nothing left to revert', async () => {
  const { root, read } = await prepared();
  await executeReset(await planReset({ files: hostFiles(root), proc: hostTools() }, { all: true, purgePackages: false }), () => undefined);
  for (const [p, content] of Object.entries(ORIGINAL)) assert.equal(read(p), content, p);
  const again = await planReset({ files: hostFiles(root), proc: hostTools() }, { all: true, purgePackages: false });
  assert.ok(!again.actions.some((a) => /^(restore|remove) \/etc\//.test(a.title)), again.actions.map((a) => a.title).join('\n'));
});

test('default reset undoes only the join', async () => {
  const { root, read } = await prepared();
  const proc = hostTools();
  const plan = await planReset({ files: hostFiles(root), proc }, { all: false, purgePackages: false });
  await executeReset(plan, () => undefined);
  assert.deepEqual(proc.runs(), ['kubeadm reset --force', 'systemctl stop kubelet']);
  assert.equal(JSON.parse(read(paths.state)!).published.joined, false);
  assert.equal(read(paths.joinConfig), null);
  assert.notEqual(read('/etc/fstab'), ORIGINAL['/etc/fstab'], 'host preparation stays');
  assert.ok(read(paths.backupManifest), 'manifest stays for a later reset --all');
});

test('planning a reset changes nothing (what --dry-run shows)', async () => {
  const { root } = await prepared();
  foreignEdits(root);
  const before = treeHash(root);
  const plan = await planReset({ files: hostFiles(root, true), proc: hostTools(true) }, { all: true, purgePackages: true });
  assert.ok(plan.actions.length >= 10);
  assert.equal(treeHash(root), before);
});

test('a manifest without copies of what joinagent wrote (older agents): markers and "created" decide', async () => {
  const { root, read } = await prepared();
  const files = hostFiles(root);
  const manifest = await readManifest(files);
  for (const e of Object.values(manifest)) delete e.written;
  writeFileSync(path.join(root, paths.backupManifest), JSON.stringify(manifest));
  foreignEdits(root);
  await executeReset(await planReset({ files, proc: hostTools() }, { all: true, purgePackages: false }), () => undefined);
  assert.equal(read('/etc/fstab'), ORIGINAL['/etc/fstab']);
  assert.equal(read('/etc/hosts'), ORIGINAL['/etc/hosts'] + FOREIGN_HOSTS_LINE);
  for (const p of CREATED) assert.equal(read(p), null, p);
});
