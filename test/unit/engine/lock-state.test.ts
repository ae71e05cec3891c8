import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acquireLock, LockHeld } from '../../../src/engine/lock.js';
import { emptyState, loadState, saveState } from '../../../src/engine/state.js';
import { paths } from '../../../src/host/paths.js';
import { tempRoot } from '../../helpers/fakes.js';

describe('lock', () => {
  it('a second agent fails with a clear message while the first holds the lock', async () => {
    const { files, cleanup } = tempRoot();
    try {
      const release = await acquireLock(files);
      await files.write(paths.lock, '1\n', { backup: false }); // pid 1 is alive
      await assert.rejects(acquireLock(files), (e: unknown) => e instanceof LockHeld && /already running \(pid 1/.test(e.message));
      await files.write(paths.lock, `${process.pid}\n`, { backup: false });
      await release();
      assert.equal(await files.exists(paths.lock), false);
    } finally {
      cleanup();
    }
  });

  it('takes over a lock left by a dead process', async () => {
    const { files, cleanup } = tempRoot();
    try {
      await files.write(paths.lock, '999999\n', { backup: false });
      const release = await acquireLock(files, () => false);
      assert.equal((await files.read(paths.lock))?.trim(), String(process.pid));
      await release();
    } finally {
      cleanup();
    }
  });
});

describe('state', () => {
  it('survives a restart and tolerates a corrupt file', async () => {
    const { files, cleanup } = tempRoot();
    try {
      const s = emptyState();
      s.lastRun = { mode: 'run', startedAt: 'x', ok: true };
      s.published.nodeIP = '192.168.10.101';
      await saveState(files, s);
      const back = await loadState(files);
      assert.equal(back.lastRun?.ok, true);
      assert.equal(back.published.nodeIP, '192.168.10.101');
      assert.equal((await files.stat(paths.state))?.mode, 0o600);
      await files.write(paths.state, '{"trunc', { backup: false });
      assert.deepEqual((await loadState(files)).steps, {});
    } finally {
      cleanup();
    }
  });
});
