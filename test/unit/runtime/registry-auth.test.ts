import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { ensureRegistryAuth, maskRegistrySecrets, registryAuths } from '../../../src/runtime/registry-auth.js';
import { desiredHostsFiles, MANAGED_MARKER } from '../../../src/runtime/registry-hosts.js';
import { explainPullFailure } from '../../../src/runtime/pull-errors.js';
import { readFileSync } from 'node:fs';
import { parseToml, renderPreserving, renderToml } from '../../../src/runtime/toml.js';

const registries = {
  'regy.site:5443': { ca: '/etc/joinagent/site-ca.pem', clientCert: '/etc/joinagent/node.crt', clientKey: '/etc/joinagent/node.key', username: 'robot', password: 'pa"ss', skipVerify: false },
  'mirror.site:5000': { token: 'idtok', skipVerify: true },
};

describe('private registries in containerd\'s formats', () => {
  it('hosts.toml: TLS at the server level for the registry itself, per [host] for a mirror', () => {
    const files = desiredHostsFiles('/etc/containerd/certs.d', { 'registry.k8s.io': ['https://mirror.site:5000'] }, {}, registries);
    // the mirror is also a registry of its own (skip_verify): it gets its own file too
    assert.deepEqual([...files.keys()], ['/etc/containerd/certs.d/mirror.site:5000/hosts.toml', '/etc/containerd/certs.d/registry.k8s.io/hosts.toml', '/etc/containerd/certs.d/regy.site:5443/hosts.toml']);
    const k8s = files.get('/etc/containerd/certs.d/registry.k8s.io/hosts.toml')!.content;
    assert.ok(k8s.startsWith(MANAGED_MARKER));
    assert.deepEqual(JSON.parse(JSON.stringify(parse(k8s))), { server: 'https://registry.k8s.io', host: { 'https://mirror.site:5000': { capabilities: ['pull', 'resolve'], skip_verify: true } } });
    const own = files.get('/etc/containerd/certs.d/regy.site:5443/hosts.toml')!.content;
    // also as its own [host]: containerd 1.6 ignores a hosts.toml without one
    const tls = { ca: '/etc/joinagent/site-ca.pem', client: [['/etc/joinagent/node.crt', '/etc/joinagent/node.key']] };
    assert.deepEqual(JSON.parse(JSON.stringify(parse(own))), { server: 'https://regy.site:5443', ...tls, host: { 'https://regy.site:5443': { capabilities: ['pull', 'resolve'], ...tls } } });
  });
  it('CRI auth: username/password or identitytoken under the images plugin of either config version; operator entries kept; re-run changes nothing', () => {
    for (const [version, plugin] of [[2, 'io.containerd.grpc.v1.cri'], [3, 'io.containerd.cri.v1.images']] as const) {
      const doc = parseToml(`version = ${version}\n[plugins."${plugin}".registry.configs."other.example".auth]\nusername = "theirs"\npassword = "keep"\n`);
      const changes = ensureRegistryAuth(doc, registryAuths(registries));
      assert.deepEqual(changes, ['registry credentials for mirror.site:5000 (token)', 'registry credentials for regy.site:5443 (user robot)']);
      const configs = (((doc.plugins as Record<string, unknown>)[plugin] as Record<string, unknown>).registry as { configs: Record<string, { auth: unknown }> }).configs;
      assert.deepEqual(configs['regy.site:5443'].auth, { username: 'robot', password: 'pa"ss' });
      assert.deepEqual(configs['mirror.site:5000'].auth, { identitytoken: 'idtok' });
      assert.deepEqual({ ...(configs['other.example'].auth as object) }, { username: 'theirs', password: 'keep' });
      const again = parseToml(renderToml(doc));
      assert.deepEqual(ensureRegistryAuth(again, registryAuths(registries)), [], 'idempotent through render and parse');
    }
  });
  it('the format-preserving edit of containerd 1.6\'s default config adds the auth tables and keeps the rest', () => {
    const text = readFileSync(new URL('../../fixtures/containerd/default-1.6.toml', import.meta.url), 'utf8');
    const doc = parseToml(text);
    ensureRegistryAuth(doc, registryAuths(registries));
    const out = renderPreserving(text, doc).text;
    assert.ok(out.startsWith(text.split('\n')[0]), 'the file keeps its first line');
    assert.deepEqual(ensureRegistryAuth(parseToml(out), registryAuths(registries)), [], 'written once, nothing to change after');
    assert.match(out, /password = "pa\\"ss"/);
  });
  it('the masked view of config.toml hides every credential value', () => {
    const doc = parseToml('version = 2\n');
    ensureRegistryAuth(doc, registryAuths(registries));
    const text = maskRegistrySecrets(renderToml(doc));
    assert.ok(!/pa"ss|pa\\"ss|idtok/.test(text), text);
    assert.match(text, /password = "<redacted>"/);
    assert.match(text, /username = "robot"/);
  });
  it('pull errors: refused credentials and an untrusted certificate name the host and the registries field', () => {
    const auth = explainPullFailure('regy.site:5443/k8s/pause:3.10', 'regy.site:5443', [], 'failed to resolve reference "regy.site:5443/k8s/pause:3.10": unexpected status from HEAD request to https://regy.site:5443/v2/k8s/pause/manifests/3.10: 401 Unauthorized');
    assert.match(auth.message, /registry regy\.site:5443 refused the credentials/);
    assert.match(auth.hint, /registries\."regy\.site:5443"/);
    assert.equal(auth.retryable, false);
    const tls = explainPullFailure('regy.site:5443/k8s/pause:3.10', 'regy.site:5443', [], 'failed to do request: Head "https://regy.site:5443/v2/k8s/pause/manifests/3.10": tls: failed to verify certificate: x509: certificate signed by unknown authority');
    assert.match(tls.message, /the TLS certificate of regy\.site:5443 is not trusted/);
    assert.match(tls.hint, /registries\."regy\.site:5443"\.ca/);
  });
});
