import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { needs, onPath } from '../../helpers/needs.js';

// Two test runs on one machine (two worktrees, CI beside a developer) share the cached
// signing key. Three processes start with no key: each makes it if missing, then signs
// three times, killing its gpg-agent after each (as every signer does); all signatures
// must verify with the one cached public key.
const dir = mkdtempSync('/var/tmp/ja-gpgkey-test-');
after(() => rmSync(dir, { recursive: true, force: true }));
const harness = path.resolve(import.meta.dirname, '../../e2e/harness/gpgkey.ts');

function signer(n: number): Promise<{ code: number | null; out: string }> {
  const script = path.join(dir, `sign-${n}.mts`);
  writeFileSync(path.join(dir, `data-${n}`), `payload ${n}\n`);
  writeFileSync(script, [
    `import { execFileSync } from 'node:child_process';`,
    `import { withSigningKey } from ${JSON.stringify(harness)};`,
    `for (let i = 0; i < 3; i++) await withSigningKey(async (k) => { execFileSync('gpg', [...k.args, '--armor', '--detach-sign', '-o', ${JSON.stringify(path.join(dir, `data-${n}.asc`))}, ${JSON.stringify(path.join(dir, `data-${n}`))}], { env: { ...process.env, ...k.env }, stdio: 'pipe' }); });`,
    '',
  ].join('\n'));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, JOINAGENT_E2E_CACHE: path.join(dir, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

test('concurrent runs make the cached key once and sign with private agents', needs(onPath('gpg'), 'gpg is not installed (apt-get install gnupg)'), async () => {
  const results = await Promise.all([1, 2, 3].map(signer));
  for (const r of results) assert.equal(r.code, 0, r.out);
  const pub = path.join(dir, 'cache/repo-key.asc');
  const home = mkdtempSync(path.join(os.tmpdir(), 'ja-gpgv-'));
  try {
    spawnSync('gpg', ['--batch', '--import', pub], { env: { ...process.env, GNUPGHOME: home } });
    for (const n of [1, 2, 3]) {
      const v = spawnSync('gpg', ['--batch', '--verify', path.join(dir, `data-${n}.asc`), path.join(dir, `data-${n}`)], { env: { ...process.env, GNUPGHOME: home }, encoding: 'utf8' });
      assert.equal(v.status, 0, `signature ${n} verifies with the one cached public key:\n${v.stderr}`);
    }
  } finally {
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home } });
    rmSync(home, { recursive: true, force: true });
  }
  assert.match(readFileSync(pub, 'utf8'), /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
});
