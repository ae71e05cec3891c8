import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before } from 'node:test';
import { churnWitness, diffHashes, ensureBinary, hashEtc, k8sImages } from '../harness/agent.js';
import { assertHostPrepared, assertJoined, EXPECTED_IMAGES } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { CONTAINERD_IO_DEB_VERSION, CONTAINERD2_UPSTREAM } from '../harness/containerd-io.js';
import type { Node } from '../harness/node.js';
import { log, scenario } from '../harness/scenario.js';
import { DOCKER_KEY_IN_NODE, startWorld, type World } from '../harness/world.js';

// containerd 2.1 as the runbook installs it: Docker's containerd.io (real containerd 2.1.9
// binaries, Docker's config.toml with the CRI disabled and no version line) from a
// Docker-style signed repository, `containerd.source: docker`. Two nodes: a fresh one, and
// one joined on Debian's containerd 1.6 whose containerd is then upgraded in place.
let fresh: World | undefined;
let upgraded: World | undefined;
let binary = '';
const CONFIG = '/root/joinagent.yaml';

before(async () => {
  binary = await ensureBinary(log);
  fresh = await startWorld({ slot: 12, log, containerd: 'docker' });
});
after(cleanupAll);

const run = (node: Node, cmd: string, config = CONFIG) => node.exec(['/root/joinagent', cmd, '--once', '--config', config, '--log-format', 'json'].filter((a) => cmd === 'run' || a !== '--once'), { allowFailure: true, timeoutMs: 8 * 60_000 });
const dump = async (node: Node): Promise<string> => (await node.exec(['containerd', 'config', 'dump'])).stdout;
const stoppedCount = async (node: Node): Promise<number> => (await node.exec(['journalctl', '-u', 'containerd', '-o', 'cat', '--no-pager'])).stdout.split('\n').filter((l) => /^Stopped containerd/.test(l)).length;

// What containerd 2.1 itself says it runs with (`config dump` merges the file, imports and
// its defaults, after migrating older config versions), not what the file says.
async function assertContainerd2Effective(node: Node): Promise<void> {
  assert.match((await node.exec(['containerd', '--version'])).stdout, new RegExp(` ${CONTAINERD2_UPSTREAM.replaceAll('.', '\\.')}`));
  const d = await dump(node);
  assert.match(d, /^version = 3$/m, 'containerd 2.1 runs the version-3 model');
  assert.match(d, /\[plugins\.'io\.containerd\.cri\.v1\.runtime'\.containerd\.runtimes\.runc\.options\][^[]*SystemdCgroup = true/, 'runc uses the systemd cgroup driver');
  assert.match(d, /\[plugins\.'io\.containerd\.cri\.v1\.images'\.pinned_images\]\s+sandbox = 'registry\.k8s\.io\/pause:3\.10'/, 'the sandbox image in its version-3 place');
  assert.match(d, /\[plugins\.'io\.containerd\.cri\.v1\.images'\.registry\]\s+config_path = '\/etc\/containerd\/certs\.d'/, 'one registry hosts directory (the transfer service reads one)');
  assert.match(d, /^disabled_plugins = \[\]$/m, 'the CRI plugin is not disabled');
  const plugins = (await node.exec(['ctr', 'plugins', 'ls'])).stdout;
  for (const p of [/io\.containerd\.cri\.v1\s+images\s+.*\bok\b/, /io\.containerd\.cri\.v1\s+runtime\s+.*\bok\b/, /io\.containerd\.grpc\.v1\s+cri\s+.*\bok\b/]) assert.match(plugins, p, `ctr plugins ls: ${p}`);
}

// The worker images came through the configured mirror (registry.k8s.io itself is not
// reachable from a node): the CRI, not ctr, reads hosts.toml.
async function assertPulledThroughMirror(w: World): Promise<void> {
  assert.deepEqual(await k8sImages(w.node), EXPECTED_IMAGES);
  const reg = await readFile(w.registry.log, 'utf8');
  for (const m of ['/v2/kube-proxy/manifests/v1.32.11', '/v2/pause/manifests/3.10']) {
    assert.ok(reg.split('\n').some((l) => l.includes(m) && l.includes(w.node.link.node)), `the mirror served ${m} to ${w.node.link.node}`);
  }
}

async function assertSecondRunChangesNothing(node: Node): Promise<void> {
  const etc = await hashEtc(node);
  const churn = await churnWitness(node);
  const r = await run(node, 'run');
  assert.equal(r.exitCode, 0, `second run exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  const events = (r.stdout + '\n' + r.stderr).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string; step?: string; state?: string });
  assert.deepEqual(events.filter((e) => e.event === 'step-end' && e.state !== 'ok' && e.state !== 'skipped').map((e) => `${e.step}=${e.state}`), [], 'every step ok');
  assert.deepEqual(diffHashes(etc, await hashEtc(node)), [], 'every file under /etc hashes the same');
  assert.deepEqual(await churnWitness(node), churn, 'no restart, no package transaction');
}

scenario('containerd2: source docker installs containerd.io 2.1, edits its config to version 3 structurally, restarts once, joins', async () => {
  const { node } = fresh!;
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, fresh!.config, 0o600);

  const r = await run(node, 'run');
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${out}`);
  assert.equal((await node.exec(['dpkg-query', '-W', '-f', '${Version}', 'containerd.io'])).stdout, CONTAINERD_IO_DEB_VERSION, 'Docker\'s containerd.io is installed');
  const list = (await node.exec(['cat', '/etc/apt/sources.list.d/docker.list'])).stdout;
  assert.ok(list.includes(`signed-by=/etc/apt/keyrings/docker.asc] ${fresh!.dockerRepo!.url} bookworm stable`), `Docker's apt source as Docker documents it:\n${list}`);
  const file = (await node.exec(['cat', '/etc/containerd/config.toml'])).stdout;
  assert.match(file, /^version = 3$/m, 'Docker\'s version-less file became a version-3 file from containerd 2.1\'s own default');
  assert.match(file, /SystemdCgroup = true/);
  await assertContainerd2Effective(node);
  assert.equal(await stoppedCount(node), 1, 'containerd restarted once (the package started it; the agent restarted it for the new config)');
  assert.match(out, /containerd-config: changed - .*containerd 2\.1: CRI pulls through the transfer service/, 'the agent says which pull path is in effect');
  await assertPulledThroughMirror(fresh!);
  await assertHostPrepared(node);
  await assertJoined(fresh!);
}, () => fresh?.node);

scenario('containerd2: a second run changes nothing; plan says all ok', async () => {
  const { node } = fresh!;
  await assertSecondRunChangesNothing(node);
  const plan = await node.exec(['/root/joinagent', 'plan', '--config', CONFIG], { allowFailure: true });
  assert.equal(plan.exitCode, 0, `plan exited ${plan.exitCode}:\n${plan.stdout}${plan.stderr}`);
  assert.match(plan.stdout, /plan: everything is ok/, plan.stdout);
  assert.equal(await stoppedCount(node), 1, 'still restarted only once');
}, () => fresh?.node);

scenario('containerd2: an operator\'s edit of the version-3 file: plan shows only that change, run keeps the comments', async () => {
  const { node } = fresh!;
  const before = (await node.exec(['cat', '/etc/containerd/config.toml'])).stdout;
  // an operator comment, and SystemdCgroup turned off by a stray sed
  const edited = `# lab: ask ops before changing\n${before.replace('SystemdCgroup = true', 'SystemdCgroup = false')}`;
  await node.writeFile('/etc/containerd/config.toml', edited);
  const plan = await node.exec(['/root/joinagent', 'plan', '--config', CONFIG], { allowFailure: true });
  const changed = plan.stdout.split('\n').filter((l) => /^\s*[-+](?![-+])/.test(l));
  assert.deepEqual(changed.map((l) => l.trim().replace(/^([-+])\s+/, '$1')), ['-SystemdCgroup = false', '+SystemdCgroup = true'], `plan's diff is the one change:\n${plan.stdout}`);
  const r = await run(node, 'run');
  assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal((await node.exec(['cat', '/etc/containerd/config.toml'])).stdout, `# lab: ask ops before changing\n${before}`, 'the comment stays, everything else as it was');
  await assertContainerd2Effective(node);
}, () => fresh?.node);

scenario('containerd2: a node joined on containerd 1.6 (version-2 config), upgraded in place to containerd.io 2.1, stays valid and joined', async () => {
  await fresh?.close();
  fresh = undefined;
  upgraded = await startWorld({ slot: 13, log, containerd: 'docker' });
  const { node } = upgraded;
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile('/root/distro.yaml', upgraded.config.replace('source: docker', 'source: distro'), 0o600);
  await node.writeFile(CONFIG, upgraded.config, 0o600);
  const first = await run(node, 'run', '/root/distro.yaml');
  assert.equal(first.exitCode, 0, `run on containerd 1.6 exited ${first.exitCode}:\n${first.stdout}\n${first.stderr}`);
  assert.match((await node.exec(['containerd', '--version'])).stdout, / 1\.6\./);
  assert.match((await node.exec(['cat', '/etc/containerd/config.toml'])).stdout, /^version = 2$/m);

  // the operator upgrades containerd by hand, Docker's way; dpkg keeps the edited config
  await node.exec(['install', '-m', '0644', DOCKER_KEY_IN_NODE, '/etc/apt/keyrings/docker.asc']);
  await node.writeFile('/etc/apt/sources.list.d/docker.list', `deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] ${upgraded.dockerRepo!.url} bookworm stable\n`);
  await node.sh('apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold containerd.io', { timeoutMs: 5 * 60_000 });
  assert.match((await node.exec(['cat', '/etc/containerd/config.toml'])).stdout, /^version = 2$/m, 'the version-2 file survived the upgrade');

  const r = await run(node, 'run');
  assert.equal(r.exitCode, 0, `run after the upgrade exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  await assertContainerd2Effective(node);
  assert.equal((await node.exec(['systemctl', 'is-active', 'containerd'])).stdout.trim(), 'active');
  await assertJoined(upgraded);
  await assertSecondRunChangesNothing(node);
}, () => upgraded?.node ?? fresh?.node);
