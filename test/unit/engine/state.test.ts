import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyState, loadState, saveState } from '../../../src/engine/state.js';
import { paths } from '../../../src/host/paths.js';
import { tempRoot } from '../../helpers/fakes.js';

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
