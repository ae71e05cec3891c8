import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configVersion, ensureCriConfig, mergeOverDefault, needsDefaultConfig, tlsConflicts } from '../../../src/runtime/containerd-settings.js';
import { parseToml, renderToml, TomlSyntaxError, valueAt, type TomlTable } from '../../../src/runtime/toml.js';

const fixture = (name: string): TomlTable => parseToml(readFileSync(path.join(import.meta.dirname, '../../fixtures/containerd', name), 'utf8'));
const wanted = { sandboxImage: 'registry.k8s.io/pause:3.10', certsDir: '/etc/containerd/certs.d' };
const V2 = 'io.containerd.grpc.v1.cri';

// The whole pipeline the step runs: regenerate when partial, then ensure.
function converge(user: TomlTable | null, defaults: TomlTable): { doc: TomlTable; changes: string[]; notes: string[] } {
  const merged = needsDefaultConfig(user) ? mergeOverDefault(defaults, user) : { doc: user!, notes: [] as string[] };
  const r = ensureCriConfig(merged.doc, wanted);
  return { doc: r.doc, changes: r.changes, notes: merged.notes };
}

describe('containerd config: which files are partial', () => {
  const cases: [string, TomlTable | null, boolean][] = [
    ['missing file', null, true],
    ["containerd.io's shipped file (no version, CRI disabled)", fixture('containerd.io.toml'), true],
    ['containerd 1.6 default (version 2)', fixture('default-1.6.toml'), false],
    ['containerd 2.x default (version 3)', fixture('default-2.x.toml'), false],
    ['hand-written version 2 with a CRI section', fixture('user-v2.toml'), false],
    ['version 2 with no CRI section', { version: 2n, root: '/data/containerd' }, true],
  ];
  for (const [name, doc, partial] of cases) it(name, () => assert.equal(needsDefaultConfig(doc), partial));
});

describe('containerd config: fixtures converge to what a worker needs', () => {
  const d16 = fixture('default-1.6.toml');
  const d2x = fixture('default-2.x.toml');

  it("containerd.io's file: regenerated from the 1.6 default, CRI enabled, every essential set", () => {
    const { doc, notes } = converge(fixture('containerd.io.toml'), d16);
    assert.equal(configVersion(doc), 2);
    assert.deepEqual(doc.disabled_plugins, []);
    assert.equal(valueAt(doc, ['plugins', V2, 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup']), true);
    assert.equal(valueAt(doc, ['plugins', V2, 'sandbox_image']), 'registry.k8s.io/pause:3.10');
    assert.equal(valueAt(doc, ['plugins', V2, 'registry', 'config_path']), '/etc/containerd/certs.d');
    // the default's own settings are there (a complete file, as `containerd config default` gives)
    assert.equal(valueAt(doc, ['plugins', 'io.containerd.gc.v1.scheduler', 'pause_threshold']), 0.02);
    assert.match(notes.join(), /regenerated/);
  });

  it('1.6 default: SystemdCgroup false -> true, pause 3.6 -> 3.10, config_path set; nothing else changes', () => {
    const { doc, changes } = converge(d16, d16);
    assert.deepEqual(changes, [
      'SystemdCgroup = true on the runc runtime (was false)',
      'sandbox image registry.k8s.io/pause:3.6 -> registry.k8s.io/pause:3.10',
      'registry config_path "" -> "/etc/containerd/certs.d"',
    ]);
    const before = renderToml(d16).split('\n');
    const after = renderToml(doc).split('\n');
    assert.deepEqual(after.filter((l) => !before.includes(l)).sort(), ['SystemdCgroup = true', 'config_path = "/etc/containerd/certs.d"', 'sandbox_image = "registry.k8s.io/pause:3.10"']);
  });

  it('2.x default (version 3): SystemdCgroup inserted where the key is absent, under the v3 plugin ids', () => {
    assert.equal(valueAt(d2x, ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup']), undefined);
    const { doc, changes } = converge(d2x, d2x);
    assert.equal(configVersion(doc), 3);
    assert.equal(valueAt(doc, ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup']), true);
    assert.equal(valueAt(doc, ['plugins', 'io.containerd.cri.v1.images', 'pinned_images', 'sandbox']), 'registry.k8s.io/pause:3.10');
    assert.equal(valueAt(doc, ['plugins', 'io.containerd.cri.v1.images', 'registry', 'config_path']), '/etc/containerd/certs.d');
    assert.equal(valueAt(doc, ['plugins', V2, 'sandbox_image']), undefined, 'no v2 keys in a v3 file');
    assert.deepEqual(changes, ['SystemdCgroup = true on the runc runtime (was absent)', 'registry config_path "" -> "/etc/containerd/certs.d"']);
    const text = renderToml(doc);
    assert.match(text, /\[plugins\."io\.containerd\.cri\.v1\.runtime"\.containerd\.runtimes\.runc\.options\]\n(.*\n)*SystemdCgroup = true/);
  });

  it("hand-written file: the operator's settings survive, legacy mirrors move to hosts.toml", () => {
    const user = fixture('user-v2.toml');
    const r = ensureCriConfig(user, wanted);
    const doc = r.doc;
    assert.equal(doc.oom_score, -999n);
    assert.equal(valueAt(doc, ['debug', 'level']), 'debug');
    assert.equal(valueAt(doc, ['metrics', 'address']), '127.0.0.1:1338');
    assert.equal(valueAt(doc, ['plugins', 'io.containerd.gc.v1.scheduler', 'pause_threshold']), 0.05);
    assert.equal(valueAt(doc, ['plugins', V2, 'max_concurrent_downloads']), 5n);
    assert.equal(valueAt(doc, ['plugins', V2, 'containerd', 'runtimes', 'crun', 'options', 'BinaryName']), '/usr/local/bin/crun');
    assert.equal(valueAt(doc, ['plugins', V2, 'containerd', 'runtimes', 'runc', 'runtime_type']), 'io.containerd.runc.v2', 'a runc table created from nothing gets its runtime_type');
    assert.equal(valueAt(doc, ['plugins', V2, 'registry', 'mirrors']), undefined, 'containerd refuses mirrors next to config_path');
    assert.deepEqual(r.legacyMirrors, { 'docker.io': ['https://dockerhub-mirror.example:5000'] });
    // floats stay floats and integers stay integers through a write
    assert.match(renderToml(doc), /pause_threshold = 0\.05\n/);
    assert.match(renderToml(doc), /oom_score = -999\n/);
  });

  it('a converged file converges to itself: no changes, same text', () => {
    for (const [user, defaults] of [[fixture('containerd.io.toml'), d16], [d16, d16], [d2x, d2x], [fixture('user-v2.toml'), d16]] as const) {
      const once = converge(user, defaults).doc;
      const twice = converge(parseToml(renderToml(once)), defaults);
      assert.deepEqual(twice.changes, []);
      assert.equal(renderToml(twice.doc), renderToml(once));
    }
  });

  it('containerd.io file with the private test paths: regenerated, user paths kept over the defaults', () => {
    const user = parseToml('disabled_plugins = ["cri"]\nroot = "/tmp/x/var/lib/containerd"\n[grpc]\n  address = "/tmp/x/run/containerd/containerd.sock"\n');
    const { doc } = converge(user, d16);
    assert.equal(doc.root, '/tmp/x/var/lib/containerd');
    assert.equal(valueAt(doc, ['grpc', 'address']), '/tmp/x/run/containerd/containerd.sock');
    assert.equal(valueAt(doc, ['grpc', 'max_recv_message_size']), 16777216n, 'default keys of a table the user also set are kept');
    assert.equal(doc.state, '/run/containerd');
  });
});

describe('containerd config: version mismatches and conflicts', () => {
  it('version 1 plugins.cri is renamed to the version 2 id when merged into the 1.6 default', () => {
    const user = parseToml('[plugins.cri]\n  sandbox_image = "k8s.gcr.io/pause:3.2"\n  stream_server_port = "10010"\n');
    const merged = mergeOverDefault(fixture('default-1.6.toml'), user);
    assert.equal(valueAt(merged.doc, ['plugins', V2, 'stream_server_port']), '10010');
    assert.equal(valueAt(merged.doc, ['plugins', 'cri']), undefined);
  });

  it('version 2 plugin settings are not poured into a version 3 default: the file stays version 2', () => {
    const user = parseToml('version = 2\n[plugins."io.containerd.gc.v1.scheduler"]\n  pause_threshold = 0.05\n');
    const merged = mergeOverDefault(fixture('default-2.x.toml'), user);
    assert.equal(configVersion(merged.doc), 2);
    assert.equal(merged.regenerated, false);
    const r = ensureCriConfig(merged.doc, wanted);
    assert.equal(valueAt(r.doc, ['plugins', V2, 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup']), true);
    assert.equal(valueAt(r.doc, ['plugins', 'io.containerd.gc.v1.scheduler', 'pause_threshold']), 0.05);
  });

  it('a config_path list (containerd 2.2\'s default) becomes the one directory the transfer service reads, naming what is dropped', () => {
    const doc = parseToml(`version = 2\n[plugins."${V2}".registry]\n  config_path = "/etc/containerd/certs.d:/etc/docker/certs.d"\n`);
    const r = ensureCriConfig(doc, wanted);
    assert.equal(valueAt(r.doc, ['plugins', V2, 'registry', 'config_path']), '/etc/containerd/certs.d');
    assert.match(r.changes.join('\n'), /hosts\.toml files under \/etc\/docker\/certs\.d are no longer read/);
  });

  it('containerd 2.1+: a changed max_concurrent_downloads moves to the transfer plugin (it would force the local pull); 1.x keeps it', () => {
    const text = 'version = 3\n[plugins."io.containerd.cri.v1.images"]\n  max_concurrent_downloads = 5\n';
    const r21 = ensureCriConfig(parseToml(text), wanted, { major: 2, minor: 1 });
    assert.equal(valueAt(r21.doc, ['plugins', 'io.containerd.cri.v1.images', 'max_concurrent_downloads']), undefined);
    assert.equal(valueAt(r21.doc, ['plugins', 'io.containerd.transfer.v1.local', 'max_concurrent_downloads']), 5n);
    assert.match(r21.changes.join('\n'), /max_concurrent_downloads = 5 moved/);
    const v2 = `version = 2\n[plugins."${V2}"]\n  max_concurrent_downloads = 5\n`;
    assert.equal(valueAt(ensureCriConfig(parseToml(v2), wanted, { major: 1, minor: 7 }).doc, ['plugins', V2, 'max_concurrent_downloads']), 5n);
    assert.equal(valueAt(ensureCriConfig(parseToml(v2), wanted, { major: 2, minor: 1 }).doc, ['plugins', 'io.containerd.transfer.v1.local', 'max_concurrent_downloads']), 5n, 'a version-2 file on containerd 2.1 too');
  });

  it('CRI disabled under any of its names is enabled; other disabled plugins stay disabled', () => {
    const doc = parseToml('version = 3\ndisabled_plugins = ["io.containerd.cri.v1.images", "io.containerd.snapshotter.v1.btrfs"]\n');
    const r = ensureCriConfig(doc, wanted);
    assert.deepEqual(r.doc.disabled_plugins, ['io.containerd.snapshotter.v1.btrfs']);
  });

  it('TLS settings in registry.configs are reported as a conflict with config_path', () => {
    const doc = parseToml(`version = 2\n[plugins."${V2}".registry.configs."reg.example".tls]\n  insecure_skip_verify = true\n[plugins."${V2}".registry.configs."other".auth]\n  username = "u"\n`);
    assert.deepEqual(tlsConflicts(doc), ['reg.example']);
  });

  it('a syntax error names the file, line and column', () => {
    assert.throws(() => parseToml('version = 2\n[plugins\n', '/etc/containerd/config.toml'), (e: unknown) => e instanceof TomlSyntaxError && /^\/etc\/containerd\/config\.toml:2:\d+: not valid TOML/.test(e.message));
  });
});
