import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { saveState, emptyState } from '../../../src/engine/state.js';
import { paths } from '../../../src/host/paths.js';
import { install } from '../../../src/install/install.js';
import { uninstall } from '../../../src/install/uninstall.js';
import { joinCleanupStep } from '../../../src/steps/join/cleanup.js';
import { ok } from '../../fixtures/config/corpus.js';
import { FakeProc, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';

// Issue 17 item 10: no copy of the bootstrap token outlives its use, and every directory
// that may hold one is 0700.
const SECRET = '0123456789abcdef';
const TOKEN = `abcdef.${SECRET}`;
let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

// every file under root holding the secret, as host paths
function holders(root: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    const p = path.join(root, f);
    if (statSync(p).isFile() && readFileSync(p, 'utf8').includes(SECRET)) out.push('/' + f);
  }
  return out.sort();
}

const systemctl = (): FakeProc => new FakeProc().on(/^systemctl is-(enabled|active)/, { stdout: 'disabled\n', exitCode: 1 }).on(/^systemctl /, {});

test('install keeps no backup copy of a config that holds the token', async () => {
  const t = tempRoot();
  cleanup = t.cleanup;
  const src = path.join(t.root, 'src-config.yaml');
  const config = Buffer.from(ok());
  const o = { binary: Buffer.from('bin'), unitText: '[Service]\n', configPath: src, config, now: false };
  await install(t.files, systemctl(), o);
  // a second install with a changed config: the previous one (with its token) is replaced
  await install(t.files, systemctl(), { ...o, config: Buffer.from(ok('host:\n  swap: leave\n')) });
  assert.deepEqual(holders(t.root), ['/etc/joinagent/config.yaml']);
});

test('join-cleanup removes backup copies and the tlsBootstrapToken that still hold the token', async () => {
  const t = tempRoot();
  cleanup = t.cleanup;
  await t.files.write(paths.kubeletConf, 'apiVersion: v1\n');
  // what an older agent left: its backups of the config
  mkdirSync(path.join(t.root, paths.backupDir), { recursive: true });
  writeFileSync(path.join(t.root, paths.backupDir, 'etc__joinagent__config.yaml.2025-01-01T100000000Z'), ok());
  writeFileSync(path.join(t.root, paths.backupDir, 'etc__joinagent__config.yaml.written'), ok());
  const config = testConfig();
  config.join.raw = { discovery: { bootstrapToken: { apiServerEndpoint: '192.168.10.100:6443' }, tlsBootstrapToken: TOKEN } };
  await t.files.write(paths.joinConfig, `discovery:\n  tlsBootstrapToken: ${TOKEN}\n`, { mode: 0o600, backup: false });
  const ctx = stepContext(t.files, new FakeProc(), config);
  const c = await joinCleanupStep.check(ctx);
  assert.equal(c.state, 'change');
  await joinCleanupStep.apply(ctx, c.state === 'change' ? c.changes : []);
  assert.deepEqual(holders(t.root), [], 'no copy of the token is left');
  assert.equal((await joinCleanupStep.check(ctx)).state, 'ok');
});

test('uninstall --purge removes the backup copies that hold a token', async () => {
  const t = tempRoot();
  cleanup = t.cleanup;
  mkdirSync(path.join(t.root, paths.backupDir), { recursive: true });
  writeFileSync(path.join(t.root, paths.backupDir, 'etc__joinagent__config.yaml.2025-01-01T100000000Z'), ok());
  writeFileSync(path.join(t.root, paths.backupDir, 'etc__hosts.2025-01-01T100000000Z'), '127.0.0.1 localhost\n');
  await t.files.write('/etc/joinagent/config.yaml', ok(), { mode: 0o600, backup: false });
  await uninstall(t.files, systemctl(), { purge: true });
  assert.deepEqual(holders(t.root), []);
  assert.ok(readdirSync(path.join(t.root, paths.backupDir)).includes('etc__hosts.2025-01-01T100000000Z'), 'other backups stay for reset --all');
});

test('a token file readable by others is reported', async () => {
  const t = tempRoot();
  cleanup = t.cleanup;
  const tokenFile = path.join(t.root, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  chmodSync(tokenFile, 0o644);
  const f = path.join(t.root, 'c.yaml');
  writeFileSync(f, ok(`join:\n  tokenFile: ${tokenFile}\n`, ''), { mode: 0o600 });
  const { warnings } = await loadConfig(f, { requireToken: true });
  assert.ok(warnings.some((w) => w.path === 'join.tokenFile' && /readable by group\/others \(mode 644\): chmod 600/.test(w.message)), JSON.stringify(warnings));
});

test('the unit forbids core dumps (a core of the agent holds the token)', () => {
  const unit = readFileSync('systemd/joinagent.service', 'utf8');
  assert.match(unit, /^LimitCORE=0$/m);
});

test('directories that may hold a secret are 0700, even when they existed with another mode', async () => {
  const t = tempRoot();
  cleanup = t.cleanup;
  for (const d of [paths.stateDir, paths.backupDir, paths.snapshotDir, paths.runDir]) {
    mkdirSync(path.join(t.root, d), { recursive: true });
    chmodSync(path.join(t.root, d), 0o755);
  }
  await t.files.write('/etc/hosts', '127.0.0.1 localhost\n');
  await t.files.write('/etc/hosts', '127.0.0.1 localhost k8s\n');
  await saveState(t.files, emptyState());
  for (const d of [paths.stateDir, paths.backupDir]) assert.equal(statSync(path.join(t.root, d)).mode & 0o777, 0o700, d);
});
