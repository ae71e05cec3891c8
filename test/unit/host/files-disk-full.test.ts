import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { diskHint } from '../../../src/engine/engine.js';
import { hostFiles } from '../../../src/host/files.js';
import { saveState, emptyState, loadState } from '../../../src/engine/state.js';
import { asRoot, needs } from '../../helpers/needs.js';

// A write that hits a full disk must leave the previous file and no partial temp file,
// and its error must name the file and say which filesystem to free. A real full
// filesystem: a 1 MiB tmpfs (root only; skipped otherwise).
let root = '';
before(() => {
  if (!asRoot) return;
  root = mkdtempSync(path.join(os.tmpdir(), 'ja-diskfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'ja-diskfull', root]);
});
after(() => {
  if (!root) return;
  execFileSync('umount', ['-l', root]);
  rmSync(root, { recursive: true, force: true });
});

const fill = (): void => {
  try {
    writeFileSync(path.join(root, 'filler'), Buffer.alloc(2 * 1024 * 1024));
  } catch {
    // ENOSPC after filling what was left: that is the point
  }
};
const temps = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.joinagent-\d+-\d+$/.test(f));

test('disk full: the previous file stays whole, no temp file is left, the error names file and filesystem', needs(asRoot, 'needs root to mount a tmpfs'), async () => {
  const files = hostFiles(root);
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  await files.write('/etc/hosts', '127.0.0.1 localhost\n');
  await saveState(files, { ...emptyState(), published: { joined: false } });
  fill();
  const big = 'x'.repeat(300 * 1024);
  await assert.rejects(files.write('/etc/hosts', big), (e: NodeJS.ErrnoException) => {
    assert.equal(e.code, 'ENOSPC');
    assert.match(e.message, /no space left on device: writing .*\/(etc\/hosts|manifest\.json|etc__hosts)/);
    assert.match(diskHint(e) ?? '', /is full \(df -h .*\): free space there/);
    return true;
  });
  await assert.rejects(saveState(files, { ...emptyState(), published: { joined: true, pad: big } }), /ENOSPC.*state\.json/);
  assert.equal(readFileSync(path.join(root, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n', 'old /etc/hosts intact');
  assert.equal((await loadState(files)).published.joined, false, 'old state.json intact and parsable');
  JSON.parse(readFileSync(path.join(root, 'var/lib/joinagent/backup/manifest.json'), 'utf8'));
  assert.deepEqual(temps(root), [], 'no temporary file left behind');
  // space freed: the same writes succeed
  rmSync(path.join(root, 'filler'));
  await files.write('/etc/hosts', big);
  await saveState(files, { ...emptyState(), published: { joined: true } });
  assert.equal((await loadState(files)).published.joined, true);
});

test('diskHint: only disk errors get the disk hint', () => {
  assert.match(diskHint(Object.assign(new Error('x'), { code: 'EROFS', path: '/var/lib/joinagent/state.json' })) ?? '', /read-only: remount/);
  assert.match(diskHint(Object.assign(new Error('x'), { code: 'EDQUOT' })) ?? '', /quota/);
  assert.equal(diskHint(Object.assign(new Error('x'), { code: 'EACCES' })), undefined);
  assert.equal(diskHint(undefined), undefined);
});
