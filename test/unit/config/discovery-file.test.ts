import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { tempRoot } from '../../helpers/fakes.js';
import { agent } from '../../fixtures/config/corpus.js';
import { makePki } from '../../fixtures/pki.js';

// discovery.file.kubeConfigPath as kubeadm accepts it: validated at load, with every
// problem at its line, the kubeconfig's server as the endpoint, its token a secret.
const { root, cleanup } = tempRoot('ja-config-file-');
const pki = makePki();
after(() => {
  cleanup();
  rmSync(pki.dir, { recursive: true, force: true });
});
const CA64 = Buffer.from(pki.caPem).toString('base64');
const kubeconfig = (extra = '', server = 'https://[fd00::1]:6443') => `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${CA64}\n    server: ${server}\n  name: ""\ncontexts: null\ncurrent-context: ""\nkind: Config\nusers: null\n${extra}`;
const write = (name: string, text: string): string => {
  const f = path.join(root, name);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
};
const plain = write('discovery.conf', kubeconfig());
const withToken = write('with-token.conf', kubeconfig().replace('contexts: null\ncurrent-context: ""', 'contexts: [{ name: j, context: { cluster: "", user: b } }]\ncurrent-context: j').replace('users: null', 'users: [{ name: b, user: { token: abcdef.0123456789abcdef } }]'));
const token = write('token', 'abcdef.0123456789abcdef\n');
const cfg = (name: string, a: string, discovery: string): string => write(name, `${agent(a)}---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n${discovery}`);
const problems = async (f: string): Promise<string> => {
  const e = await loadConfig(f, { requireToken: true, credentialsDir: '' }).then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof ConfigError, 'expected a ConfigError');
  return e.message;
};

describe('config: file discovery', () => {
  it('the cluster-info kubeconfig + join.tokenFile: endpoint from the file, token for the TLS bootstrap', async () => {
    const { config } = await loadConfig(cfg('ok.yaml', `join:\n  tokenFile: ${token}\n`, `  file:\n    kubeConfigPath: ${plain}\n`), { requireToken: true });
    assert.deepEqual(config.join.discovery, { kind: 'file', kubeConfigPath: plain });
    assert.equal(config.join.apiServerEndpoint, '[fd00::1]:6443');
    assert.equal(config.tokenSource, 'file');
  });
  it('tlsBootstrapToken inline is the token', async () => {
    const { config } = await loadConfig(cfg('inline.yaml', '', `  file:\n    kubeConfigPath: ${plain}\n  tlsBootstrapToken: abcdef.0123456789abcdef\n`), { requireToken: true });
    assert.equal(config.token, 'abcdef.0123456789abcdef');
    assert.equal(config.tokenSource, 'inline');
  });
  it('a kubeconfig with its own credentials needs no token; an https URL is taken as given', async () => {
    assert.equal((await loadConfig(cfg('creds.yaml', '', `  file:\n    kubeConfigPath: ${withToken}\n`), { requireToken: true, credentialsDir: '' })).config.tokenSource, 'none');
    const url = await loadConfig(cfg('url.yaml', '', `  file:\n    kubeConfigPath: https://config.example/discovery.conf\n`), { requireToken: true, credentialsDir: '' });
    assert.equal(url.config.join.apiServerEndpoint, '');
  });
  it('no credentials and no token: kubeadm\'s refusal, at the file', async () => {
    const m = await problems(cfg('nocreds.yaml', '', `  file:\n    kubeConfigPath: ${plain}\n`));
    assert.match(m, /:8:3: discovery\.tlsBootstrapToken: the discovery kubeconfig has no credentials and there is no bootstrap token/);
  });
  it('both methods, or neither: kubeadm\'s words, at the discovery block', async () => {
    assert.match(await problems(cfg('both.yaml', '', `  bootstrapToken:\n    apiServerEndpoint: 10.0.0.1:6443\n    token: abcdef.0123456789abcdef\n    unsafeSkipCAVerification: true\n  file:\n    kubeConfigPath: ${plain}\n`)), /:12:3: discovery\.file: bootstrapToken and file cannot both be set/);
    assert.match(await problems(cfg('neither.yaml', '', '  tlsBootstrapToken: abcdef.0123456789abcdef\n')), /:7:1: discovery: bootstrapToken or file must be set/);
  });
  it('every problem of the file at the kubeConfigPath line', async () => {
    assert.match(await problems(cfg('missing.yaml', '', `  file:\n    kubeConfigPath: ${root}/nope.conf\n  tlsBootstrapToken: abcdef.0123456789abcdef\n`)), /:9:21: discovery\.file\.kubeConfigPath: .*nope\.conf: no such file \(kubeadm: "not a valid HTTPS URL or a file on disk"\)/);
    const noCa = write('noca.conf', kubeconfig().replace(`    certificate-authority-data: ${CA64}\n`, ''));
    assert.match(await problems(cfg('noca.yaml', '', `  file:\n    kubeConfigPath: ${noCa}\n  tlsBootstrapToken: abcdef.0123456789abcdef\n`)), /discovery\.file\.kubeConfigPath: .*noca\.conf: cluster "" has no certificate-authority/);
    assert.match(await problems(cfg('http.yaml', '', '  file:\n    kubeConfigPath: http://config.example/x.conf\n')), /:9:21: discovery\.file\.kubeConfigPath: .*the scheme must be https/);
    assert.match(await problems(cfg('empty.yaml', '', '  file: {}\n')), /discovery\.file\.kubeConfigPath: required field "kubeConfigPath" is missing/);
  });
  it('the token inside the kubeconfig is never echoed', async () => {
    const m = await problems(cfg('both-tok.yaml', `join:\n  tokenFile: ${token}\n`, `  file:\n    kubeConfigPath: ${withToken}\n  tlsBootstrapToken: abcdef.0123456789abcdef\n`));
    assert.match(m, /both inline and in join\.tokenFile/);
    assert.ok(!m.includes('0123456789abcdef'), m);
  });
});
