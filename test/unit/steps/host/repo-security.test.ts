import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../../src/config/load.js';
import { StepError } from '../../../../src/engine/step.js';
import { keyChange, writeDownloadedKeys } from '../../../../src/steps/host/packages/keys.js';
import { keyFingerprints } from '../../../../src/steps/host/packages/openpgp.js';
import { repositoryPlan } from '../../../../src/steps/host/packages/repos.js';
import { ok } from '../../../fixtures/config/corpus.js';
import { debianFacts, FakeProc, stepContext, tempRoot, testConfig } from '../../../helpers/fakes.js';
import { needs, onPath } from '../../../helpers/needs.js';

// Issue 17 item 11: a repository URL went into the repository file as the raw string
// new URL() had accepted, and new URL() drops newlines: "https://m/\ndeb [trusted=yes]
// http://evil /" added an unsigned repository. Keys came from any URL without a size
// limit or a way to pin them.
const { root, cleanup } = tempRoot('ja-repo-');
after(cleanup);
const write = (name: string, text: string): string => {
  const f = path.join(root, name);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
};

describe('repository URLs in the config', () => {
  it('a URL with a line break (or any control character) is refused, on its line', async () => {
    const f = write('inject.yaml', ok('repositories:\n  kubernetes:\n    url: "https://mirror.example/k8s/\\ndeb [trusted=yes] http://evil.example/ /"\n'));
    const e = await loadConfig(f).then(() => assert.fail('accepted'), (x: Error) => x);
    assert.match(e.message, /:6:\d+: repositories\.kubernetes\.url: .*control character/);
  });
  it('the parsed form is what the rest of joinagent sees; http:// is warned about', async () => {
    const f = write('norm.yaml', ok('repositories:\n  kubernetes:\n    url: HTTP://Mirror.Example:80/k8s/../deb/\n    key: http://mirror.example/Release.key\n'));
    const { config, warnings } = await loadConfig(f);
    assert.equal(config.agent.repositories.kubernetes?.url, 'http://mirror.example/deb/');
    const text = warnings.map((w) => `${w.path}: ${w.message}`).join('\n');
    assert.match(text, /repositories\.kubernetes\.url: plain http/);
    assert.match(text, /repositories\.kubernetes\.key: the signing key over plain http: .*keyFingerprints/);
  });
  it('key fingerprints: 40 or 64 hex digits, spaces allowed, stored without them', async () => {
    const good = write('fp.yaml', ok('repositories:\n  kubernetes:\n    keyFingerprints: ["DE15 B144 86CD 377B 9E87  6E1A 2346 54DA 9A29 6436"]\n'));
    assert.deepEqual((await loadConfig(good)).config.agent.repositories.kubernetes?.keyFingerprints, ['DE15B14486CD377B9E876E1A234654DA9A296436']);
    const bad = write('fp-bad.yaml', ok('repositories:\n  kubernetes:\n    keyFingerprints: [DE15B144]\n'));
    await assert.rejects(loadConfig(bad), /repositories\.kubernetes\.keyFingerprints\[0\]: .*not an OpenPGP fingerprint/);
  });
  it('a URL that reaches the repository plan with a line break anyway is refused there too', () => {
    const c = testConfig({ repositories: { kubernetes: { url: 'https://m.example/\ndeb [trusted=yes] http://evil.example/ /' } } });
    assert.throws(() => repositoryPlan(c, debianFacts, { id: 'debian', codename: 'bookworm' }), /control character/);
  });
});

describe('repository keys', () => {
  let server: http.Server;
  let gnupg = '';
  let armored = '';
  let fingerprint = '';
  let otherArmored = '';
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/huge.key') {
        res.writeHead(200);
        const chunk = Buffer.alloc(1 << 20, 0x99);
        let n = 50;
        const pump = (): void => {
          while (n-- > 0) if (!res.write(chunk)) return void res.once('drain', pump);
          res.end();
        };
        pump();
      } else if (req.url === '/real.key') res.end(armored);
      else if (req.url === '/two.key') res.end(armored + otherArmored);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(19702, '127.0.0.1', r));
    if (!onPath('gpg')) return;
    gnupg = mkdtempSync(path.join(os.tmpdir(), 'ja-gpg-'));
    const gpg = (...a: string[]): string => execFileSync('gpg', ['--homedir', gnupg, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...a], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    gpg('--quick-generate-key', 'Repo Signing <repo@example.test>', 'rsa2048', 'sign', 'never');
    gpg('--quick-generate-key', 'Someone Else <x@example.test>', 'ed25519', 'sign', 'never');
    const fprs = gpg('--with-colons', '--fingerprint').split('\n').filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9]);
    fingerprint = fprs[0];
    armored = gpg('--armor', '--export', fprs[0]);
    otherArmored = gpg('--armor', '--export', fprs[1]);
  });
  after(() => {
    server.close();
    if (gnupg) rmSync(gnupg, { recursive: true, force: true });
  });

  it('a key download is capped', async () => {
    const t = tempRoot();
    after(t.cleanup);
    const ctx = stepContext(t.files, new FakeProc());
    const t0 = Date.now();
    const huge = { path: '/etc/apt/keyrings/k.asc', source: 'http://127.0.0.1:19702/huge.key' };
    await assert.rejects(writeDownloadedKeys(ctx, [(await keyChange(ctx, huge))!], [huge]), (e: StepError) => /larger than 256 KiB/.test(e.message));
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(await t.files.exists('/etc/apt/keyrings/k.asc'), false);
  });

  it('fingerprints are what gpg says they are (binary and armored)', needs(onPath('gpg'), 'gpg (package gnupg) not installed'), () => {
    assert.deepEqual(keyFingerprints(Buffer.from(armored)), [fingerprint]);
    const binary = execFileSync('gpg', ['--dearmor'], { input: armored });
    assert.deepEqual(keyFingerprints(binary), [fingerprint]);
  });

  it('a pinned fingerprint is checked on download and on the keyring already there', needs(onPath('gpg'), 'gpg (package gnupg) not installed'), async () => {
    const t = tempRoot();
    after(t.cleanup);
    const ctx = stepContext(t.files, new FakeProc());
    const pinned = { path: '/etc/apt/keyrings/k.asc', source: 'http://127.0.0.1:19702/real.key', fingerprints: [fingerprint] };
    await writeDownloadedKeys(ctx, [(await keyChange(ctx, pinned))!], [pinned]);
    assert.equal(await keyChange(ctx, pinned), null, 'converged: the keyring there has the pinned key');
    // another key served under the same URL: refused, nothing written
    const wrong = { ...pinned, path: '/etc/apt/keyrings/w.asc', fingerprints: ['0'.repeat(40)] };
    await assert.rejects(writeDownloadedKeys(ctx, [(await keyChange(ctx, wrong))!], [wrong]), (e: StepError) => e.message.includes(fingerprint) && /not pinned in repositories\.\*\.keyFingerprints/.test(e.message));
    assert.equal(await t.files.exists('/etc/apt/keyrings/w.asc'), false);
    // a keyring that holds an extra, unpinned key is not trusted either
    const two = { ...pinned, path: '/etc/apt/keyrings/two.asc', source: 'http://127.0.0.1:19702/two.key' };
    await assert.rejects(writeDownloadedKeys(ctx, [(await keyChange(ctx, two))!], [two]), /not pinned/);
    // the keyring on disk replaced by someone with another key: the check wants it back
    writeFileSync(t.files.resolve('/etc/apt/keyrings/k.asc'), otherArmored);
    assert.notEqual(await keyChange(ctx, pinned), null);
    // a key given as a file is checked the same way
    const file = path.join(t.root, 'local.asc');
    writeFileSync(file, readFileSync(t.files.resolve('/etc/apt/keyrings/k.asc')));
    await assert.rejects(keyChange(ctx, { path: '/etc/apt/keyrings/f.asc', source: '/local.asc', fingerprints: [fingerprint] }), /not pinned/);
  });
});
