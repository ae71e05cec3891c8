import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError, formatProblems, loadConfig } from '../../../src/config/load.js';
import { agentSpec, joinSpec } from '../../../src/config/schema.js';
import type { Spec } from '../../../src/config/walk.js';
import { main } from '../../../src/cli/main.js';
import { sink } from '../../../src/cli/output.js';
import { tempRoot } from '../../helpers/fakes.js';

// Issue 17 item 7: a bootstrap token pasted into any field of the config (the wrong one,
// a list, a key, with text around it) is never printed: not in the loader's messages,
// not in what the CLI writes (under systemd that is the journal).
const { root, cleanup } = tempRoot('ja-secrets-fuzz-');
after(cleanup);
const HASH = 'sha256:' + 'a'.repeat(64);
const TOKEN_FILE = path.join(root, 'token');
writeFileSync(TOKEN_FILE, 'aaaaaa.bbbbbbbbbbbbbbbb\n', { mode: 0o600 });

const baseAgent = (): Record<string, unknown> => ({ apiVersion: 'joinagent.io/v1alpha1', kind: 'AgentConfiguration', kubernetesVersion: 'v1.32.11' });
const baseJoin = (): Record<string, unknown> => ({
  apiVersion: 'kubeadm.k8s.io/v1beta4',
  kind: 'JoinConfiguration',
  discovery: { bootstrapToken: { apiServerEndpoint: '192.168.10.100:6443', caCertHashes: [HASH] } },
});

// Every field path the schema knows, by document: [doc, path segments]; lists contribute
// their first item, maps a key of their own.
function fieldPaths(spec: Spec, at: (string | number)[] = []): (string | number)[][] {
  switch (spec.t) {
    case 'object':
      return [at, ...Object.entries(spec.fields).flatMap(([k, s]) => fieldPaths(s, [...at, k]))];
    case 'array':
      return [at, ...fieldPaths(spec.items, [...at, 0])];
    case 'map':
      return [at, ...fieldPaths(spec.values, [...at, 'some-key'])];
    case 'either':
      return [at, ...spec.options.flatMap((o) => fieldPaths(o, at))];
    default:
      return [at];
  }
}
const FIELDS: ['agent' | 'join', (string | number)[]][] = [
  ...fieldPaths(agentSpec).filter((p) => p.length).map((p) => ['agent', p] as ['agent', (string | number)[]]),
  ...fieldPaths(joinSpec('v1beta4')).filter((p) => p.length).map((p) => ['join', p] as ['join', (string | number)[]]),
];

function setIn(obj: Record<string, unknown>, p: (string | number)[], value: unknown): void {
  let cur = obj as Record<string | number, unknown>;
  for (let i = 0; i < p.length - 1; i++) {
    const k = p[i];
    const next = cur[k];
    if (next === null || typeof next !== 'object') cur[k] = typeof p[i + 1] === 'number' ? [] : {};
    cur = cur[k] as Record<string | number, unknown>;
  }
  cur[p[p.length - 1]] = value;
}

const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split(''));
// a real secret is random: at least 8 different characters (so that "8 characters of the
// secret" in the output means a leak, not a coincidence with the text around it)
const secretArb = fc.string({ unit: alnum, minLength: 16, maxLength: 16 }).filter((s) => new Set(s).size >= 8);
const tokenArb = fc.tuple(fc.string({ unit: alnum, minLength: 6, maxLength: 6 }), secretArb).map(([id, secret]) => ({ id, secret, token: `${id}.${secret}` }));
const placement = fc.constantFrom('value', 'list', 'key', 'extra-key', 'quoted-broken');
// the long one puts the secret where a 40-character echo would cut it
const prefix = fc.constantFrom('', 'https://', '/', 'interface:', 'sha256:', 'x_', 'token ', 'v', '-', 'k8s-ctr:', 'https://mirror.example/', 'Bearer');
const suffix = fc.constantFrom('', ':6443', '/', 'x', ' ', '_', '.example');

function render(doc: 'agent' | 'join', p: (string | number)[], how: string, text: string): string {
  const agent = baseAgent();
  const join = baseJoin();
  const target = doc === 'agent' ? agent : join;
  if (how === 'value' || how === 'quoted-broken') setIn(target, p, text);
  else if (how === 'list') setIn(target, p, [text]);
  else if (how === 'key') setIn(target, p, { [text]: 'x' });
  else setIn(target, [...p.slice(0, -1), text], 'x');
  let yaml = `${stringify(agent)}---\n${stringify(join)}`;
  if (how === 'quoted-broken') yaml = yaml.replace(text, `"${text}`);
  return yaml;
}

// Nothing of the secret: not whole, not cut short by a truncated echo (any 8 characters).
function leaks(out: string, secret: string): string | undefined {
  for (let i = 0; i + 8 <= secret.length; i++) if (out.includes(secret.slice(i, i + 8))) return secret.slice(i, i + 8);
  return undefined;
}

// What the CLI prints, from its one output module (src/cli/output.ts).
async function cliOutput(args: string[]): Promise<string> {
  let out = '';
  const saved = { ...sink };
  sink.out = sink.err = (text) => void (out += text);
  const code = process.exitCode;
  try {
    await main(args);
  } finally {
    Object.assign(sink, saved);
    process.exitCode = code;
  }
  return out;
}

describe('the config loader never prints a token (property)', () => {
  it(`has every field of both documents (${FIELDS.length})`, () => assert.ok(FIELDS.length > 60, String(FIELDS.length)));

  it('a token pasted into any field, any way: not in the messages, not in what the CLI prints', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIELDS), placement, prefix, suffix, tokenArb, fc.boolean(), async ([doc, p], how, pre, post, t, withFile) => {
        const file = path.join(root, `fuzz-${n++ % 8}.yaml`);
        let yaml = render(doc, p, how, `${pre}${t.token}${post}`);
        if (withFile) yaml = yaml.replace('kubernetesVersion: v1.32.11\n', `kubernetesVersion: v1.32.11\njoin:\n  tokenFile: ${TOKEN_FILE}\n`);
        writeFileSync(file, yaml, { mode: 0o600 });
        let text: string;
        try {
          const r = await loadConfig(file, { requireToken: true, credentialsDir: '' });
          text = formatProblems(file, r.warnings);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          text = e.message + '\n' + formatProblems(file, e.problems);
        }
        const where = `${doc}:${p.join('.')} as ${how}, "${pre}…${post}"`;
        assert.equal(leaks(text, t.secret), undefined, `loader message leaks the secret (${where}):\n${text}`);
        const printed = await cliOutput(['validate', '--config', file]);
        assert.equal(leaks(printed, t.secret), undefined, `validate prints the secret (${where}):\n${printed}`);
      }),
      { numRuns: 600 },
    );
  });

  it('the cases the review found: join.tokenFile, bootstrapToken and caCertHashes', async () => {
    const secret = 'q8w7e6r5t4y3u2i1';
    const token = `zx9c8v.${secret}`;
    const cases = [
      render('agent', ['join', 'tokenFile'], 'value', token),
      render('join', ['discovery', 'bootstrapToken'], 'value', token),
      render('join', ['discovery', 'bootstrapToken', 'caCertHashes'], 'list', token),
    ];
    for (const [i, yaml] of cases.entries()) {
      const file = path.join(root, `review-${i}.yaml`);
      writeFileSync(file, yaml, { mode: 0o600 });
      const printed = await cliOutput(['validate', '--config', file]);
      assert.match(printed, /problem/, printed);
      assert.equal(leaks(printed, secret), undefined, printed);
    }
  });
});
