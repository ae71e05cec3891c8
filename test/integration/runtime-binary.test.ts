import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { CriClient, CriError } from '../../src/runtime/cri/client.js';
import { effectiveCriConfig } from '../../src/runtime/effective.js';
import { agentYaml, runtimeEnv, type RuntimeEnv } from './runtime-env.js';

// The built binary against a real containerd and a real registry mirror: Docker's
// containerd.io config (CRI disabled) is repaired, exactly kube-proxy and pause arrive
// through the mirror of registry.k8s.io, and a second run changes nothing.

const REPO = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(REPO, 'dist/joinagent');
const WANTED = ['registry.k8s.io/kube-proxy:v1.32.11', 'registry.k8s.io/pause:3.10'];

// Rebuilds dist/joinagent when any source file is newer than it.
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs)));
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < newest(path.join(REPO, 'src'))) {
    const r = spawnSync('bash', ['build.sh'], { cwd: REPO, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bash build.sh failed');
  }
}

describe('joinagent prepare (built binary) with a real containerd and registry mirror', { timeout: 240_000 }, () => {
  let env: RuntimeEnv;
  let cfg: string;
  const runAgent = () =>
    // only the runtime steps: host preparation is proven by its own tests and on booted nodes
    execa(BIN, ['prepare', '--only', 'containerd-config,containerd-running,images', '--root', env.root, '--config', cfg, '--log-format', 'json'], { env: { ...env.ctr.env }, reject: false, timeout: 180_000 });
  const stepStates = (): Record<string, string> => {
    const s = JSON.parse(readFileSync(path.join(env.root, 'var/lib/joinagent/state.json'), 'utf8')) as { steps: Record<string, { state: string }> };
    return Object.fromEntries(Object.entries(s.steps).map(([k, v]) => [k, v.state]));
  };

  before(async () => {
    ensureBuilt();
    env = await runtimeEnv();
    env.writeContainerdConfig(readFileSync(path.join(REPO, 'test/fixtures/containerd/containerd.io.toml'), 'utf8'));
    cfg = path.join(`${env.root}.ctr`, 'config.yaml');
    writeFileSync(cfg, agentYaml(), { mode: 0o600 });
    await env.ctr.start(); // running, as after `apt install containerd.io`, but with CRI disabled
  });
  after(async () => env?.cleanup());

  it('first run: CRI repaired, containerd restarted once, exactly the two images pulled through the mirror', async () => {
    const pre = new CriClient(env.ctr.socket);
    await assert.rejects(pre.version(), (e) => e instanceof CriError && e.unimplemented, 'the starting point: containerd.io as shipped, CRI disabled');
    pre.close();
    const pidBefore = env.ctr.pid();
    const r = await runAgent();
    assert.equal(r.exitCode, 0, `prepare failed:\n${r.stdout}\n${r.stderr}\n--- containerd log ---\n${env.ctr.log().slice(-3000)}`);
    assert.deepEqual(stepStates(), { 'containerd-config': 'changed', 'containerd-running': 'changed', images: 'changed' });
    assert.notEqual(env.ctr.pid(), pidBefore, 'containerd was restarted to load the repaired config');
    assert.deepEqual(env.ctr.calls().filter((c) => c !== 'start containerd'), ['restart containerd', 'enable --now containerd']);

    const toml = readFileSync(env.ctr.configPath, 'utf8');
    assert.match(toml, /^disabled_plugins = \[\]$/m);
    assert.match(toml, /SystemdCgroup = true/);
    assert.match(toml, new RegExp(`root = "${env.root}/var/lib/containerd"`), "the operator's root setting is kept");
    assert.equal(
      readFileSync(path.join(env.root, 'etc/containerd/certs.d/registry.k8s.io/hosts.toml'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).join('\n'),
      'server = "https://registry.k8s.io"\n[host."http://127.0.0.1:19715"]\n  capabilities = ["pull", "resolve"]',
    );

    const cri = new CriClient(env.ctr.socket);
    try {
      const tags = (await cri.listImages()).flatMap((i) => i.repoTags).sort();
      assert.deepEqual(tags, WANTED, 'exactly kube-proxy and pause, nothing else');
      const eff = effectiveCriConfig((await cri.status(true)).info);
      assert.deepEqual(eff, { systemdCgroup: true, sandboxImage: 'registry.k8s.io/pause:3.10' });
    } finally {
      cri.close();
    }
    // cross-check with containerd's own client, in kubelet's namespace
    const ls = await execa('ctr', ['--address', env.ctr.socket, '-n', 'k8s.io', 'images', 'ls', '-q']);
    assert.deepEqual(ls.stdout.split('\n').filter((l) => l.includes(':') && !l.includes('@') && !l.startsWith('sha256:')).sort(), WANTED);
    assert.match(readFileSync(env.registry!.log, 'utf8'), /uri="\/v2\/kube-proxy\/manifests\/v1\.32\.11\?ns=registry\.k8s\.io"/, 'the pull went through the mirror');

    const published = JSON.parse(readFileSync(path.join(env.root, 'var/lib/joinagent/state.json'), 'utf8')).published;
    assert.deepEqual(published.images, { [WANTED[0]]: 'present', [WANTED[1]]: 'present' }, '/status published.images after the verifying check');
  });

  it('second run: all ok, nothing pulled, containerd not restarted', async () => {
    const pidBefore = env.ctr.pid();
    const callsBefore = env.ctr.calls().length;
    const registryLogBefore = readFileSync(env.registry!.log, 'utf8').length;
    const r = await runAgent();
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(stepStates(), { 'containerd-config': 'ok', 'containerd-running': 'ok', images: 'ok' });
    assert.equal(env.ctr.pid(), pidBefore, 'same containerd process');
    assert.deepEqual(env.ctr.calls().slice(callsBefore), [], 'no systemctl call that changes anything');
    assert.doesNotMatch(readFileSync(env.registry!.log, 'utf8').slice(registryLogBefore), /uri="?\/v2\/[^ ]+\/(manifests|blobs)/, 'nothing fetched from the registry');
  });
});
