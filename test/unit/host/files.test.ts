import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { hostFiles, readManifest } from '../../../src/host/files.js';
import { tempRoot } from '../../helpers/fakes.js';

describe('files', () => {
  it('writes atomically, keeps the mode, backs up the previous content and records the original', async () => {
    const { root, files, cleanup } = tempRoot();
    try {
      mkdirSync(path.join(root, 'etc'));
      writeFileSync(path.join(root, 'etc/fstab'), 'UUID=1 / ext4 defaults 0 1\n');
      chmodSync(path.join(root, 'etc/fstab'), 0o640);
      const r1 = await files.write('/etc/fstab', 'v2\n');
      assert.equal(r1.changed, true);
      assert.equal(statSync(path.join(root, 'etc/fstab')).mode & 0o777, 0o640);
      const r2 = await files.write('/etc/fstab', 'v3\n');
      assert.equal((await files.write('/etc/fstab', 'v3\n')).changed, false, 'same content = no write');
      const m = await readManifest(files);
      assert.equal(m['/etc/fstab'].created, false);
      assert.equal(m['/etc/fstab'].original, r1.backup);
      assert.deepEqual(m['/etc/fstab'].backups, [r1.backup, r2.backup]);
      assert.equal(readFileSync(path.join(root, r1.backup!), 'utf8'), 'UUID=1 / ext4 defaults 0 1\n');
      assert.equal(readFileSync(path.join(root, r2.backup!), 'utf8'), 'v2\n');
      assert.deepEqual(readdirSync(path.join(root, 'etc')), ['fstab'], 'no temp files left behind');
    } finally {
      cleanup();
    }
  });

  it('a temp file left by a SIGKILLed writer goes at the next write of that file; a live writer\'s stays', async () => {
    const { root, files, cleanup } = tempRoot();
    try {
      mkdirSync(path.join(root, 'etc/modules-load.d'), { recursive: true });
      const dir = path.join(root, 'etc/modules-load.d');
      // pid 2^22+1 is above Linux's pid_max limit: never a running process
      writeFileSync(path.join(dir, `.k8s.conf.joinagent-${2 ** 22 + 1}-5`), 'overl');
      writeFileSync(path.join(dir, '.k8s.conf.joinagent-1-7'), 'pid 1 is alive');
      writeFileSync(path.join(dir, `.other.conf.joinagent-${2 ** 22 + 1}-1`), 'another target');
      await files.write('/etc/modules-load.d/k8s.conf', 'overlay\n');
      assert.deepEqual(readdirSync(dir).sort(), ['.k8s.conf.joinagent-1-7', `.other.conf.joinagent-${2 ** 22 + 1}-1`, 'k8s.conf']);
    } finally {
      cleanup();
    }
  });

  it('records files it created, and a new file gets the requested mode', async () => {
    const { files, cleanup } = tempRoot();
    try {
      await files.write('/etc/sysctl.d/k8s.conf', 'x=1\n', { mode: 0o600 });
      assert.equal((await files.stat('/etc/sysctl.d/k8s.conf'))?.mode, 0o600);
      const m = await readManifest(files);
      assert.deepEqual(m['/etc/sysctl.d/k8s.conf'], { created: true, backups: [], written: '/var/lib/joinagent/backup/etc__sysctl.d__k8s.conf.written' });
    } finally {
      cleanup();
    }
  });

  it('read-only files refuse every mutation; paths cannot escape the root', async () => {
    const { root, cleanup } = tempRoot();
    try {
      const ro = hostFiles(root, true);
      await assert.rejects(ro.write('/etc/x', 'y'), /read-only mode/);
      await assert.rejects(ro.remove('/etc/x'), /read-only mode/);
      await assert.rejects(ro.mkdir('/etc/d'), /read-only mode/);
      assert.equal(ro.resolve('/../../etc/passwd'), path.join(root, 'etc/passwd'));
      assert.equal(await ro.read('/nope'), null);
    } finally {
      cleanup();
    }
  });
});
