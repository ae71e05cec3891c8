import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { refreshToken } from '../../../src/config/token-refresh.js';
import type { LoadedConfig } from '../../../src/config/types.js';

// The daemon picks a new token from join.tokenFile up at its next attempt.
test('a new token in join.tokenFile replaces the old one; a broken file keeps it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-token-'));
  const file = path.join(dir, 'token');
  writeFileSync(file, 'abcdef.0123456789abcdef\n', { mode: 0o600 });
  const config = { file: '/x', tokenSource: 'file', tokenPath: file, token: 'abcdef.0123456789abcdef' } as LoadedConfig;
  assert.equal((await refreshToken(config)).changed, false);
  writeFileSync(file, 'ghijkl.0123456789abcdef\n');
  const r = await refreshToken(config);
  assert.equal(r.changed, true);
  assert.equal(r.config.token, 'ghijkl.0123456789abcdef');
  writeFileSync(file, 'not a token\n');
  const bad = await refreshToken(r.config);
  assert.equal(bad.changed, false);
  assert.equal(bad.config.token, 'ghijkl.0123456789abcdef');
  assert.match(bad.problem!, /does not hold a bootstrap token/);
  assert.equal((await refreshToken({ ...config, tokenSource: 'inline' })).changed, false, 'an inline token is the config\'s: SIGHUP reloads it');
});
