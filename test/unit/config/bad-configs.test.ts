import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { tempRoot } from '../../helpers/fakes.js';
import { badCases, ok, TOKEN } from '../../fixtures/config/corpus.js';

const { root, cleanup } = tempRoot('ja-config-');
after(cleanup);
const cases = badCases(root);
const missing = path.join(root, 'does-not-exist');
const goodToken = path.join(root, 'token');
const keyDir = path.join(root, 'keys');

describe('bad-config corpus', () => {
  it('has at least 30 cases', () => assert.ok(cases.length >= 30, `${cases.length} cases`));
  for (const c of cases) {
    it(c.name, async () => {
      const file = path.join(root, `${c.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, c.yaml, { mode: 0o600 });
      const markerLine = c.yaml.split('\n').findIndex((l) => l.includes('#<')) + 1;
      const line = c.line ?? markerLine;
      assert.ok(line > 0, 'case has a line');
      const err = await loadConfig(file, { requireToken: true }).then(
        () => assert.fail('config was accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConfigError, String(err));
      const want = `${file}:${line}:`;
      const hit = err.message.split('\n').find((l) => l.startsWith(want) && (c.path === '' || l.includes(` ${c.path}: `)) && c.message.test(l));
      assert.ok(hit, `expected a line "${want}... ${c.path}: ${c.message}" in:\n${err.message}`);
      assert.ok(!/abcdef\.0123456789abcdef|0123456789abcdef/.test(err.message), 'token secret must not appear');
    });
  }
});

const write = (name: string, text: string | Buffer): string => {
  const f = path.join(root, name);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
};

describe('file-level problems', () => {
  const fails = async (file: string, re: RegExp): Promise<void> => {
    const e = await loadConfig(file).then(() => null, (x: unknown) => x);
    assert.ok(e instanceof ConfigError, 'expected ConfigError');
    assert.match(e.message, re);
    assert.match(e.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:1: `));
  };
  it('empty file', () => fails(write('empty.yaml', '  \n'), /file is empty/));
  it('missing file', () => fails(missing, /cannot read config: no such file/));
  it('a directory', () => fails(keyDir, /not a regular file/));
  it('huge input', () => fails(write('huge.yaml', Buffer.alloc(1024 * 1024 + 1, 0x61)), /a config is at most 1048576 bytes/));
  it('binary input', () => fails(write('bin.yaml', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2])), /binary, not YAML/));

  it('reports every problem at once, in line order', async () => {
    const f = write('many.yaml', ok('host:\n  swap: off\n  firewall: nope\nnodeIP: x\n'));
    const e = (await loadConfig(f).catch((x: unknown) => x)) as ConfigError;
    const lines = e.message.split('\n');
    assert.equal(lines.length, 3, e.message);
    assert.deepEqual(lines.map((l) => Number(l.split(':')[1])), [5, 6, 7]);
  });
});

describe('warnings and accepted configs', () => {
  it('accepts the runbook config and warns about unsafeSkipCAVerification and a group-readable token file', async () => {
    const src = new URL('../../fixtures/config/runbook.yaml', import.meta.url).pathname;
    const f = path.join(root, 'runbook.yaml');
    writeFileSync(f, (await import('node:fs')).readFileSync(src));
    chmodSync(f, 0o644);
    const { config, warnings } = await loadConfig(f, { requireToken: true });
    assert.equal(config.agent.kubernetesVersion, 'v1.32.11');
    assert.equal(config.join.apiServerEndpoint, '192.168.10.100:6443');
    assert.deepEqual(config.join.kubeletExtraArgs, [{ name: 'node-ip', value: '192.168.10.101' }]);
    assert.equal(config.tokenSource, 'inline');
    const text = warnings.map((w) => `${w.line}: ${w.path}: ${w.message}`).join('\n');
    assert.match(text, /unsafeSkipCAVerification: the control plane is not authenticated.*joinagent ca-hash/);
    assert.match(text, /readable by group\/others \(mode 644\): chmod 600/);
  });

  it('v1beta3 map-style kubeletExtraArgs are normalised', async () => {
    const f = write('v1beta3.yaml', ok('', TOKEN, 'nodeRegistration:\n  kubeletExtraArgs:\n    node-ip: 10.0.0.5\n').replace('v1beta4', 'v1beta3'));
    const { config } = await loadConfig(f);
    assert.equal(config.join.apiVersion, 'kubeadm.k8s.io/v1beta3');
    assert.deepEqual(config.join.kubeletExtraArgs, [{ name: 'node-ip', value: '10.0.0.5' }]);
  });

  it('token from join.tokenFile and from the systemd credential', async () => {
    const f1 = write('tf.yaml', ok(`join:\n  tokenFile: ${goodToken}\n`, ''));
    const r1 = await loadConfig(f1, { requireToken: true });
    assert.equal(r1.config.tokenSource, 'file');
    assert.equal(r1.config.token, 'abcdef.0123456789abcdef');
    mkdirSync(path.join(root, 'creds'), { recursive: true });
    writeFileSync(path.join(root, 'creds', 'join-token'), 'abcdef.0123456789abcdef');
    const r2 = await loadConfig(write('cred.yaml', ok('', '')), { requireToken: true, credentialsDir: path.join(root, 'creds') });
    assert.equal(r2.config.tokenSource, 'credential');
  });

  it('missing token is an error only when the command joins', async () => {
    const f = write('notoken.yaml', ok('', ''));
    const r = await loadConfig(f, { requireToken: false, credentialsDir: '' });
    assert.equal(r.config.tokenSource, 'none');
    const e = await loadConfig(f, { requireToken: true, credentialsDir: '' }).catch((x: unknown) => x);
    assert.match(String((e as Error).message), /no bootstrap token/);
  });

  it('applies defaults', async () => {
    const { config } = await loadConfig(write('defaults.yaml', ok()));
    assert.equal(config.agent.status.address, '127.0.0.1:9797');
    assert.equal(config.agent.host.swap, 'disable');
    assert.equal(config.agent.reconcile.interval, 300_000);
    assert.equal(config.agent.images.repository, 'registry.k8s.io');
  });
});
