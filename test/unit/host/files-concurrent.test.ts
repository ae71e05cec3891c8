import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { readManifest } from '../../../src/host/files.js';
import { tempRoot } from '../../helpers/fakes.js';

// The engine runs two steps side by side: their file writes must neither collide on a
// temp file nor drop each other's backup-manifest entries (reset restores from it).
it('concurrent writes keep every file and every backup entry', async () => {
  const t = tempRoot();
  after(t.cleanup);
  const names = Array.from({ length: 8 }, (_, i) => `/etc/f${i}`);
  await Promise.all(names.map((p) => t.files.write(p, 'old\n')));
  await Promise.all(names.map((p) => t.files.write(p, 'new\n')));
  for (const p of names) assert.equal(await t.files.read(p), 'new\n');
  const manifest = await readManifest(t.files);
  assert.deepEqual(Object.keys(manifest).sort(), names);
  for (const p of names) assert.equal(await t.files.read(manifest[p].backups[0]), 'old\n');
});
