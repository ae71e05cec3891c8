import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { hostFiles } from '../../../src/host/files.js';
import { tempRoot } from '../../helpers/fakes.js';

// Issue 17 item 6: a write into a directory others can write to (snapshot --out into
// /tmp, a 1777 directory) must not follow a symlink planted where joinagent creates its
// temporary file: the victim would be overwritten and chmod'ed. Temp files are created
// with O_CREAT|O_EXCL|O_NOFOLLOW under an unpredictable name.
describe('files: planted symlinks', () => {
  it('a symlink planted at any predictable temp name redirects nothing', async () => {
    const { root, cleanup } = tempRoot();
    try {
      const shared = path.join(root, 'tmp');
      mkdirSync(shared);
      chmodSync(shared, 0o1777);
      const victim = path.join(root, 'victim');
      writeFileSync(victim, 'precious\n', { mode: 0o644 });
      // every name the old scheme could pick in this process: .NAME.joinagent-PID-COUNTER
      for (let n = 1; n <= 2000; n++) symlinkSync(victim, path.join(shared, `.out.json.joinagent-${process.pid}-${n}`));
      const files = hostFiles('/');
      await files.write(path.join(shared, 'out.json'), '{"snapshot":true}\n', { mode: 0o600, backup: false });
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the victim was not overwritten');
      assert.equal(statSync(victim).mode & 0o777, 0o644, 'the victim was not chmod-ed');
      assert.equal(readFileSync(path.join(shared, 'out.json'), 'utf8'), '{"snapshot":true}\n');
      assert.equal(lstatSync(path.join(shared, 'out.json')).isFile(), true);
      const left = readdirSync(shared).filter((f) => !f.startsWith('.out.json.joinagent-'));
      assert.deepEqual(left, ['out.json'], 'no stray temp file');
    } finally {
      cleanup();
    }
  });

  it('chmod does not follow a symlink to somewhere else', async () => {
    const { root, files, cleanup } = tempRoot();
    try {
      const victim = path.join(root, 'victim');
      writeFileSync(victim, 'x', { mode: 0o644 });
      mkdirSync(path.join(root, 'etc/joinagent'), { recursive: true });
      symlinkSync(victim, path.join(root, 'etc/joinagent/config.yaml'));
      await assert.rejects(files.chmod('/etc/joinagent/config.yaml', 0o600), /symbolic link/);
      assert.equal(statSync(victim).mode & 0o777, 0o644);
    } finally {
      cleanup();
    }
  });

  it('replacing a file that is a symlink does not take over the link target\'s owner', async () => {
    const { root, files, cleanup } = tempRoot();
    try {
      const victim = path.join(root, 'victim');
      writeFileSync(victim, 'x', { mode: 0o644 });
      mkdirSync(path.join(root, 'etc'), { recursive: true });
      symlinkSync(victim, path.join(root, 'etc/out'));
      await files.write('/etc/out', 'new\n', { backup: false });
      assert.equal(readFileSync(victim, 'utf8'), 'x', 'the link target is untouched');
      assert.equal(readFileSync(path.join(root, 'etc/out'), 'utf8'), 'new\n');
    } finally {
      cleanup();
    }
  });
});
