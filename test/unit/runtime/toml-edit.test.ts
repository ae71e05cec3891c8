import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { diffLines } from 'diff';
import fc from 'fast-check';
import { ensureCriConfig } from '../../../src/runtime/containerd-settings.js';
import { parseContainerdVersion, pullPath } from '../../../src/runtime/pull-path.js';
import { editToml } from '../../../src/runtime/toml-edit.js';
import { cloneToml, parseToml, renderPreserving, sameToml, tableAt, type TomlTable } from '../../../src/runtime/toml.js';

const fixtureText = (name: string): string => readFileSync(path.join(import.meta.dirname, '../../fixtures/containerd', name), 'utf8');
const wanted = { sandboxImage: 'registry.k8s.io/pause:3.10', certsDir: '/etc/containerd/certs.d' };

// The lines a change removed and added, as `plan` shows them.
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const parts = diffLines(before, after);
  const lines = (p: { value: string }): string[] => p.value.split('\n').filter(Boolean);
  return { removed: parts.filter((p) => p.removed).flatMap(lines), added: parts.filter((p) => p.added).flatMap(lines) };
}

describe('containerd config edits keep the file as the operator wrote it', () => {
  // issue 17 item 15: `containerd config default` of 2.1.9 with one comment added gave a
  // 459-line diff for three changes, and lost the comment
  const original = `# keep: tuned for the lab by ops\n${fixtureText('default-2.1.9.toml')}`;

  it('2.1.9 default + a comment: the diff is the three settings, nothing else', () => {
    const r = ensureCriConfig(parseToml(original), { ...wanted, sandboxImage: 'registry.k8s.io/pause:3.10.1' }, { major: 2, minor: 1 });
    const out = renderPreserving(original, r.doc);
    assert.equal(out.preserved, true);
    assert.deepEqual(changedLines(original, out.text), {
      removed: ["      sandbox = 'registry.k8s.io/pause:3.10'", "      config_path = ''", '            SystemdCgroup = false'],
      added: ["      sandbox = 'registry.k8s.io/pause:3.10.1'", "      config_path = '/etc/containerd/certs.d'", '            SystemdCgroup = true'],
    });
    assert.ok(out.text.startsWith('# keep: tuned for the lab by ops\n'), 'the comment is still there');
    assert.ok(sameToml(parseToml(out.text), r.doc), 'the text says exactly the desired settings');
  });

  it('a key the file lacks goes under its table, in the file\'s indentation and quotes; a new table goes beside its siblings', () => {
    const text = "version = 3\n\n[plugins]\n  [plugins.'io.containerd.cri.v1.runtime']\n    enable_selinux = false # ours\n\n  [plugins.'io.containerd.gc.v1.scheduler']\n    pause_threshold = 0.02\n";
    const out = editToml(text, [
      { op: 'set', path: ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup'], value: true },
      { op: 'set', path: ['plugins', 'io.containerd.cri.v1.runtime', 'max_container_log_line_size'], value: 16384n },
      { op: 'set', path: ['plugins', 'io.containerd.cri.v1.images', 'pinned_images', 'sandbox'], value: 'registry.k8s.io/pause:3.10' },
    ]);
    assert.equal(
      out,
      "version = 3\n\n[plugins]\n  [plugins.'io.containerd.cri.v1.runtime']\n    enable_selinux = false # ours\n    max_container_log_line_size = 16384\n\n    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n      SystemdCgroup = true\n\n  [plugins.'io.containerd.gc.v1.scheduler']\n    pause_threshold = 0.02\n\n  [plugins.'io.containerd.cri.v1.images'.pinned_images]\n    sandbox = 'registry.k8s.io/pause:3.10'\n",
    );
    assert.equal((parseToml(out) as { plugins: Record<string, TomlTable> }).plugins['io.containerd.gc.v1.scheduler'].pause_threshold, 0.02, 'a float stays a float');
  });

  it('moving registry.mirrors out removes the table, its sub-tables and dotted keys, and nothing around them', () => {
    const text = [
      'version = 2',
      '[plugins."io.containerd.grpc.v1.cri".registry]',
      '  config_path = ""',
      '  # mirrors below are ours',
      '  mirrors."quay.io".endpoint = ["https://q.example"]',
      '  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]',
      '    endpoint = ["https://d.example"]',
      '# next section',
      '[debug]',
      '  level = "info"',
      '',
    ].join('\n');
    const r = ensureCriConfig(parseToml(text), wanted);
    assert.deepEqual(r.legacyMirrors, { 'quay.io': ['https://q.example'], 'docker.io': ['https://d.example'] });
    const out = renderPreserving(text, r.doc);
    assert.equal(out.preserved, true);
    assert.match(out.text, /# mirrors below are ours\n/);
    assert.match(out.text, /# next section\n\[debug\]\n {2}level = "info"\n/);
    assert.doesNotMatch(out.text, /mirrors\.|endpoint/);
  });

  it('what the range editor cannot do (an array of tables) is rendered whole, still exactly the desired settings', () => {
    const text = 'version = 2\n[[proxy_plugins_list]]\n  name = "a"\n';
    const desired = parseToml(text);
    (desired.proxy_plugins_list as TomlTable[])[0].name = 'b';
    const out = renderPreserving(text, desired);
    assert.equal(out.preserved, false);
    assert.ok(sameToml(parseToml(out.text), desired));
  });

  it('a float -0 keeps its sign and the file its comments (fast-check found [[[0,-0,null]]] fell back to a whole render)', () => {
    const out = renderPreserving('# keep\na = 1\n', { a: -0, b: [[-0]] });
    assert.equal(out.preserved, true);
    assert.match(out.text, /^# keep\na = -0\.0\n/);
    assert.ok(Object.is((parseToml(out.text).b as number[][])[0][0], -0));
  });

  it('any set of value changes on the 2.1.9 default reads back as exactly the desired document', () => {
    const base = parseToml(original);
    const keys: string[][] = [];
    const walk = (t: TomlTable, p: string[]): void => {
      for (const [k, v] of Object.entries(t)) {
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) walk(v as TomlTable, [...p, k]);
        else keys.push([...p, k]);
      }
    };
    walk(base, []);
    const value = fc.oneof(fc.boolean(), fc.bigInt({ min: -5n, max: 1n << 40n }), fc.string({ maxLength: 12 }), fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
    const edit = fc.tuple(fc.nat(keys.length - 1), fc.oneof(value, fc.constant(undefined)), fc.option(fc.stringMatching(/^[a-z.]{1,8}$/)));
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 6 }), (edits) => {
        const desired = cloneToml(base);
        for (const [i, v, extra] of edits) {
          const p = keys[i];
          const t = tableAt(desired, p.slice(0, -1));
          if (v === undefined) delete t[p[p.length - 1]];
          else t[p[p.length - 1]] = v;
          if (extra) tableAt(desired, ['plugins', extra]).added = v ?? 'x';
        }
        const out = renderPreserving(original, desired);
        return out.preserved && sameToml(parseToml(out.text), desired) && out.text.startsWith('# keep');
      }),
      { numRuns: 150 },
    );
  });
});

describe('containerd CRI pull path', () => {
  const v21 = { major: 2, minor: 1 };
  const table: [string, string, { major: number; minor: number }, string][] = [
    ['2.1 default', fixtureText('default-2.1.9.toml'), v21, 'transfer'],
    ['1.7 never uses the transfer service', 'version = 2\n', { major: 1, minor: 7 }, 'local: containerd 1.7'],
    ['use_local_image_pull', "version = 3\n[plugins.'io.containerd.cri.v1.images']\nuse_local_image_pull = true\n", v21, 'local: use_local_image_pull'],
    ['inline mirrors', "version = 3\n[plugins.'io.containerd.cri.v1.images'.registry.mirrors.'docker.io']\nendpoint = ['x']\n", v21, 'local: registry.mirrors'],
    ['max_concurrent_downloads in the CRI plugin', "version = 3\n[plugins.'io.containerd.cri.v1.images']\nmax_concurrent_downloads = 10\n", v21, 'local: max_concurrent_downloads'],
    ['max_concurrent_downloads in the transfer plugin', "version = 3\n[plugins.'io.containerd.transfer.v1.local']\nmax_concurrent_downloads = 10\n", v21, 'transfer'],
    ['a version-2 file on 2.1 with discard_unpacked_layers', 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\ndiscard_unpacked_layers = true\n', v21, 'local: discard_unpacked_layers'],
    ['snapshot annotations turned on', "version = 3\n[plugins.'io.containerd.cri.v1.images']\ndisable_snapshot_annotations = false\n", v21, 'local: disable_snapshot_annotations'],
  ];
  for (const [name, text, v, want] of table) {
    it(name, () => {
      const p = pullPath(parseToml(text), v);
      assert.equal(p.mode === 'transfer' ? 'transfer' : `local: ${p.reason}`.slice(0, want.length), want);
    });
  }
  it('reads containerd --version as the project and distributions print it', () => {
    assert.deepEqual(parseContainerdVersion('containerd github.com/containerd/containerd/v2 2.1.9+unknown \n'), { major: 2, minor: 1 });
    assert.deepEqual(parseContainerdVersion('containerd containerd.io v2.1.5 fcd43222d6b07379a4be9786bda52438f0dd16a1\n'), { major: 2, minor: 1 });
    assert.deepEqual(parseContainerdVersion('containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1\n'), { major: 1, minor: 6 });
    assert.equal(parseContainerdVersion('garbage'), undefined);
  });
});
