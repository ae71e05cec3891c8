import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { execa } from 'execa';
import { runSteps, type RunResult } from '../../src/engine/engine.js';
import type { Step } from '../../src/engine/step.js';
import { hostFiles } from '../../src/host/files.js';
import { hostProc } from '../../src/host/proc.js';
import { CriClient } from '../../src/runtime/cri/client.js';
import { effectiveCriConfig } from '../../src/runtime/effective.js';
import { parseToml, valueAt } from '../../src/runtime/toml.js';
import { containerdSteps } from '../../src/steps/runtime/index.js';
import { debianFacts, stepContext, testConfig } from '../helpers/fakes.js';
import { privateContainerdSettings } from '../fixtures/containerd.js';
import { tinyImageLayout } from '../fixtures/registry.js';
import { REGISTRY_PORT, runtimeEnv, type RuntimeEnv } from './runtime-env.js';

// The runtime steps in-process, through the engine, against a real containerd 1.6 and a
// real registry: each config fixture ends up in effect (CRI Status verbose says so), and
// each failure reads clearly. containerd 1.6 cannot run a version 3 config, so the 2.x
// fixture is covered by rendering tests only (test/unit/runtime/containerd-config.test.ts).

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/containerd');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const MIRROR = `http://127.0.0.1:${REGISTRY_PORT}`;

let env: RuntimeEnv | undefined;
const savedEnv = { ...process.env };

async function setup(opts: { registry?: boolean; images?: string[]; config: string; start?: boolean }): Promise<RuntimeEnv> {
  env = await runtimeEnv({ registry: opts.registry, images: opts.images });
  env.writeContainerdConfig(opts.config);
  Object.assign(process.env, env.ctr.env); // the real proc module finds the fake systemctl on PATH
  if (opts.start !== false) await env.ctr.start();
  return env;
}

async function run(e: RuntimeEnv, over: { mirrors?: Record<string, string[]>; kubernetesVersion?: string; only?: string[]; archives?: string } = {}): Promise<RunResult> {
  const config = testConfig({
    kubernetesVersion: over.kubernetesVersion ?? 'v1.32.11',
    containerd: { source: 'distro', registryMirrors: over.mirrors ?? { 'registry.k8s.io': [MIRROR] } },
    images: { repository: 'registry.k8s.io', archives: over.archives },
  });
  const ctx = stepContext(hostFiles(e.root), hostProc(), config, debianFacts);
  // fast retries: the policy itself is the engine's business, tested there
  let steps: Step[] = containerdSteps(config, debianFacts, { readyTimeoutMs: 20_000 }).map((s) => (s.retry ? { ...s, retry: { attempts: 2, baseMs: 10, maxMs: 10 } } : s));
  if (over.only) steps = steps.filter((s) => over.only!.includes(s.id)).map((s) => ({ ...s, after: [] }));
  return runSteps(steps, ctx, ctx.bus, { mode: 'prepare', checkOnly: false });
}

const outcome = (r: RunResult, id: string) => r.outcomes.find((o) => o.id === id)!;

async function effective(e: RuntimeEnv): Promise<ReturnType<typeof effectiveCriConfig>> {
  const cri = new CriClient(e.ctr.socket);
  try {
    return effectiveCriConfig((await cri.status(true)).info);
  } finally {
    cri.close();
  }
}

afterEach(async () => {
  if (existsSync(env?.ctr.configPath ?? '')) await execa('chattr', ['-i', env!.ctr.configPath], { reject: false });
  await env?.cleanup();
  env = undefined;
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

describe('containerd config fixtures take effect in a real containerd', { timeout: 120_000 }, () => {

  for (const [name, file] of [
    ['containerd 1.6 `config default` (version 2, SystemdCgroup = false, pause 3.6)', 'default-1.6.toml'],
    ["containerd.io's shipped file (CRI disabled)", 'containerd.io.toml'],
  ] as const) {
    it(name, async () => {
      const e = await setup({ registry: false, config: fixture(file) });
      const r = await run(e, { only: ['containerd-config', 'containerd-running'] });
      assert.equal(outcome(r, 'containerd-config').state, 'changed', outcome(r, 'containerd-config').message);
      assert.deepEqual(await effective(e), { systemdCgroup: true, sandboxImage: 'registry.k8s.io/pause:3.10' });
      const pid = e.ctr.pid();
      const again = await run(e, { only: ['containerd-config', 'containerd-running'] });
      assert.deepEqual(again.outcomes.map((o) => o.state), ['ok', 'ok']);
      assert.equal(e.ctr.pid(), pid, 'not restarted when nothing changed');
    });
  }

  it("hand-written config: the operator's settings stay and containerd accepts the result", async () => {
    const e = await setup({ registry: false, config: fixture('user-v2.toml') });
    const r = await run(e, { only: ['containerd-config'] });
    assert.equal(outcome(r, 'containerd-config').state, 'changed', outcome(r, 'containerd-config').message);
    const doc = parseToml(readFileSync(e.ctr.configPath, 'utf8'));
    assert.equal(valueAt(doc, ['debug', 'level']), 'debug');
    assert.equal(valueAt(doc, ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes', 'crun', 'options', 'BinaryName']), '/usr/local/bin/crun');
    assert.equal(valueAt(doc, ['plugins', 'io.containerd.grpc.v1.cri', 'max_concurrent_downloads']), 5n);
    // its legacy docker.io mirror now lives in certs.d, next to the configured registry.k8s.io mirror
    assert.match(readFileSync(path.join(e.root, 'etc/containerd/certs.d/docker.io/hosts.toml'), 'utf8'), /\[host\."https:\/\/dockerhub-mirror\.example:5000"\]/);
    assert.match(readFileSync(path.join(e.root, 'etc/containerd/certs.d/registry.k8s.io/hosts.toml'), 'utf8'), new RegExp(`\\[host\\."${MIRROR.replace(/\./g, '\\.')}"\\]`));
    assert.deepEqual(await effective(e), { systemdCgroup: true, sandboxImage: 'registry.k8s.io/pause:3.10' });
    const cri = new CriClient(e.ctr.socket);
    const st = await cri.status(true);
    cri.close();
    assert.equal(JSON.parse(st.info.config).containerd.runtimes.crun.options.BinaryName, '/usr/local/bin/crun', 'the extra runtime is live too');
  });
});

describe('runtime steps: failures read clearly', { timeout: 120_000 }, () => {
  it('registry unreachable: names the mirror, retried, then failed', async () => {
    const e = await setup({ registry: false, config: fixture('default-1.6.toml') });
    const r = await run(e, { mirrors: { 'registry.k8s.io': ['http://127.0.0.1:19716'] } });
    const o = outcome(r, 'images');
    assert.equal(o.state, 'failed');
    assert.match(o.message!, /^pulling registry\.k8s\.io\/kube-proxy:v1\.32\.11: registry mirror http:\/\/127\.0\.0\.1:19716 for registry\.k8s\.io is unreachable: .*connection refused/);
    assert.match(o.hint!, /start the mirror or fix containerd\.registryMirrors\["registry\.k8s\.io"\]/);
    assert.equal(o.attempts, 2, 'unreachable is worth retrying');
  });

  it('image missing in the mirror: names the image and the mirror, not retried', async () => {
    const e = await setup({ config: fixture('default-1.6.toml'), images: ['pause:3.10'] });
    const r = await run(e);
    const o = outcome(r, 'images');
    assert.equal(o.state, 'failed');
    assert.match(o.message!, /^pulling registry\.k8s\.io\/kube-proxy:v1\.32\.11: the mirror http:\/\/127\.0\.0\.1:19715 did not have it, and registry\.k8s\.io itself is unreachable/);
    assert.match(o.hint!, /push kube-proxy:v1\.32\.11 to the mirror/);
    assert.equal(o.attempts, 1);
  });

  it('runtime socket absent: names the socket and what to do', async () => {
    const e = await setup({ registry: false, config: fixture('default-1.6.toml'), start: false });
    const r = await run(e, { only: ['images'] });
    const o = outcome(r, 'images');
    assert.equal(o.state, 'failed');
    assert.equal(o.message, `runtime socket /run/containerd/containerd.sock (nodeRegistration.criSocket unix:///run/containerd/containerd.sock) does not exist: containerd is not running`);
    assert.match(o.hint!, /systemctl start containerd/);
  });

  it('CRI disabled and the file immutable (managed elsewhere): not repairable, says so', async () => {
    const e = await setup({ registry: false, config: fixture('containerd.io.toml') });
    await execa('chattr', ['+i', e.ctr.configPath]);
    const r = await run(e);
    const o = outcome(r, 'containerd-config');
    assert.equal(o.state, 'failed');
    assert.equal(o.message, 'cannot write /etc/containerd/config.toml (EPERM): the file is protected and managed outside joinagent');
    assert.match(o.hint!, /lsattr \/etc\/containerd\/config\.toml/);
    assert.deepEqual(e.ctr.calls().filter((c) => c.startsWith('restart')), [], 'no restart for a file that did not change');
  });

  it('CRI still disabled after the restart (containerd reads another file): not repairable, says so', async () => {
    const e = await setup({ registry: false, config: fixture('default-1.6.toml') });
    // the service starts containerd with a config of its own that keeps CRI off
    const other = path.join(`${e.root}.ctr`, 'vendor-config.toml');
    writeFileSync(other, `disabled_plugins = ["io.containerd.grpc.v1.cri"]\nversion = 2\n${privateContainerdSettings(e.root)}`);
    process.env.JA_CTR_CONFIG = other;
    const r = await run(e);
    const o = outcome(r, 'containerd-config');
    assert.equal(o.state, 'failed');
    assert.match(o.message!, /^containerd answers on unix:\/\/\/run\/containerd\/containerd\.sock but the CRI API is not available/);
    assert.match(o.hint!, /systemctl cat containerd/);
  });
});

describe('air-gapped sites: images.archives', { timeout: 120_000 }, () => {
  it('imports the archives into k8s.io before pulling: both images present with no registry at all', async () => {
    const e = await setup({ registry: false, config: fixture('default-1.6.toml') });
    // docker-archive tarballs as `docker save` / `skopeo copy` make them, named as kubelet expects
    const dir = path.join(e.root, 'var/lib/joinagent/images');
    const layout = await tinyImageLayout();
    for (const [file, ref] of [['kube-proxy.tar', 'registry.k8s.io/kube-proxy:v1.32.11'], ['pause.tar', 'registry.k8s.io/pause:3.10']]) {
      await execa('mkdir', ['-p', dir]);
      await execa('skopeo', ['--insecure-policy', 'copy', '--quiet', `oci:${layout}:tiny`, `docker-archive:${path.join(dir, file)}:${ref}`]);
    }
    // the mirror points at a closed port: any pull attempt would fail the step
    const r = await run(e, { archives: '/var/lib/joinagent/images', mirrors: { 'registry.k8s.io': ['http://127.0.0.1:19716'] } });
    const o = outcome(r, 'images');
    assert.equal(o.state, 'changed', `${o.message} ${o.hint ?? ''}`);
    const cri = new CriClient(e.ctr.socket);
    try {
      const names = (await cri.listImages()).flatMap((i) => i.repoTags).sort();
      assert.deepEqual(names, ['registry.k8s.io/kube-proxy:v1.32.11', 'registry.k8s.io/pause:3.10']);
    } finally {
      cri.close();
    }
    const again = await run(e, { archives: '/var/lib/joinagent/images', only: ['images'] });
    assert.equal(outcome(again, 'images').state, 'ok', 'present images are neither imported nor pulled again');
  });
});
