import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { badCases, ok } from '../fixtures/config/corpus.js';
import { cli } from '../helpers/binary.js';

// Bad input, at volume: the whole corpus through the built binary (every command that
// reads a config), then property-based fuzzing of the loader. Always exit 2 with a
// positioned message, never a stack trace, never a host change.
const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-badinput-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = path.join(dir, 'host');
const POSITIONED = /^\S+:\d+:\d+: /;

describe('bad input through the built binary', () => {
  const extra = [
    { name: 'fuzz-binary-garbage', yaml: '\u0000\u0001\u0002garbage' },
    { name: 'only-comments', yaml: '# nothing here\n' },
    { name: 'just-a-scalar', yaml: 'hello\n' },
    { name: 'tab-indent', yaml: 'apiVersion: joinagent.io/v1alpha1\nkind: AgentConfiguration\nhost:\n\tswap: leave\n' },
    { name: 'json-array', yaml: '[1, 2, 3]\n' },
  ];
  const corpusFiles = path.join(dir, 'corpus-files');
  mkdirSync(corpusFiles);
  const cases: { name: string; yaml: string; joinOnly?: boolean }[] = [...badCases(corpusFiles).map((c) => ({ name: c.name, yaml: c.yaml, joinOnly: c.joinOnly })), ...extra];
  it(`has at least 50 invalid configs (${cases.length})`, () => assert.ok(cases.length >= 50));

  it('each exits 2 from validate, plan and run --once, positioned, no stack trace, no host change', () => {
    for (const [i, c] of cases.entries()) {
      const f = path.join(dir, `case-${i}.yaml`);
      writeFileSync(f, c.yaml, { mode: 0o600 });
      const all = c.joinOnly ? [['validate'], ['run', '--once']] : [['validate'], ['run', '--once'], ['plan']];
      for (const cmd of i % 3 === 0 ? all : [['validate']]) {
        const r = cli([...cmd, '--config', f, '--root', root]);
        assert.equal(r.code, 2, `${c.name} (${cmd}): ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /\n\s+at |Error:/, `${c.name}: stack trace`);
        const lines = r.stderr.trim().split('\n');
        assert.ok(lines.slice(0, -1).every((l) => POSITIONED.test(l)), `${c.name}: unpositioned line in\n${r.stderr}`);
      }
      rmSync(f);
    }
    // --root points at dir/host: nothing may have been written there, not even a directory
    assert.equal(existsSync(root), false);
  });
});

describe('a token pasted into the wrong field (built binary)', () => {
  // issue 17 item 7: the loader's messages echo values, and the CLI printed them as they were
  const secret = 'k3j4h5g6f7d8s9a0';
  const token = `p0o9i8.${secret}`;
  const cases = [
    ['join.tokenFile', ok(`join:\n  tokenFile: ${token}\n`, '')],
    ['bootstrapToken', ok().replace('  bootstrapToken:\n', `  bootstrapToken: ${token}\n  x:\n`)],
    ['caCertHashes', ok().replace(/caCertHashes: \[.*\]/, `caCertHashes: [${token}]`)],
    ['kind', ok().replace('kind: JoinConfiguration', `kind: ${token}`)],
    ['a key, glued', ok(`host:\n  x_${token}y: 1\n`)],
  ];
  it('validate, plan and run --once print no part of the secret', () => {
    for (const [name, yaml] of cases) {
      const f = path.join(dir, `token-${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(f, yaml, { mode: 0o600 });
      for (const cmd of [['validate'], ['plan'], ['run', '--once']]) {
        const r = cli([...cmd, '--config', f, '--root', root]);
        assert.equal(r.code, 2, `${name} (${cmd}): ${r.stderr}`);
        assert.ok(!`${r.stdout}${r.stderr}`.includes(secret.slice(0, 8)) && !`${r.stdout}${r.stderr}`.includes(secret.slice(8)), `${name} (${cmd}) printed the secret:\n${r.stderr}`);
      }
    }
  });
});

describe('config loader fuzzing (fast-check)', () => {
  const file = path.join(dir, 'fuzz.yaml');
  const check = async (text: string): Promise<void> => {
    writeFileSync(file, text);
    try {
      await loadConfig(file, { requireToken: false, credentialsDir: '' });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw new Error(`not a ConfigError for input ${JSON.stringify(text).slice(0, 300)}: ${(e as Error).stack}`, { cause: e });
      const nLines = text.split('\n').length + 1;
      for (const p of e.problems) {
        assert.ok(p.line >= 1 && p.line <= nLines, `line ${p.line} outside 1..${nLines}`);
        assert.ok(p.col >= 1);
      }
      for (const l of e.message.split('\n')) assert.match(l, POSITIONED);
    }
  };

  it('random values in every field of the AgentConfiguration', async () => {
    const field = fc.constantFrom('kubernetesVersion', 'host', 'containerd', 'repositories', 'images', 'nodeIP', 'join', 'status', 'reconcile', 'bogus');
    const sub = fc.constantFrom('timezone', 'ntp', 'swap', 'hosts', 'source', 'registryMirrors', 'url', 'key', 'tokenFile', 'address', 'interval', 'mode', 'x');
    await fc.assert(
      fc.asyncProperty(field, sub, fc.anything({ maxDepth: 3 }), fc.boolean(), async (f, s, v, nested) => {
        let body: string;
        try {
          body = stringify({ [f]: nested ? { [s]: v } : v });
        } catch {
          return; // values yaml itself cannot represent
        }
        await check(ok(body));
      }),
      { numRuns: 300 },
    );
  });

  it('random edits of a valid config (deleted, inserted and swapped characters and lines)', async () => {
    const base = ok('host:\n  swap: disable\n  hosts:\n    - { ip: 10.0.0.1, names: [a] }\n');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(base.length), fc.nat(3), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 6 }), async (edits) => {
        let t = base;
        for (const [at, kind, s] of edits) {
          const i = at % (t.length + 1);
          if (kind === 0) t = t.slice(0, i) + t.slice(i + 1);
          else if (kind === 1) t = t.slice(0, i) + s + t.slice(i);
          else if (kind === 2) t = t.slice(0, i) + '\n' + s + t.slice(i);
          else {
            const ls = t.split('\n');
            const a = i % ls.length;
            [ls[a], ls[(a + 1) % ls.length]] = [ls[(a + 1) % ls.length], ls[a]];
            t = ls.join('\n');
          }
        }
        await check(t);
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary unicode text', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 200 }), check), { numRuns: 300 });
  });
});
