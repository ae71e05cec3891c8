import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { after, before } from 'node:test';
import { ensureBinary, k8sImages, waitForStatus } from '../harness/agent.js';
import { assertJoined } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import type { Node } from '../harness/node.js';
import { log, scenario } from '../harness/scenario.js';
import { waitFor } from '../harness/sh.js';
import { startWorld, type World } from '../harness/world.js';

// In-place worker upgrades (issue 18): the node joins at v1.32.11 from pkgs.k8s.io-style
// per-minor repositories, then the control plane moves and the config follows it.
let w: World | undefined;
let binary = '';
const CONFIG = '/root/joinagent.yaml';
const RECORD = '/var/lib/joinagent/upgrade.json';

before(async () => {
  binary = await ensureBinary(log);
  w = await startWorld({ slot: 24, log });
});
after(cleanupAll);

// the world's config pointed at the v1.32 repository as pkgs.k8s.io lays it out
const configAt = (world: World, version: string, extra = ''): string =>
  world.config.replace(`url: "${world.repo.url}"`, `url: "${world.repo.minorUrl!('1.32')}"`).replace('kubernetesVersion: v1.32.11', `kubernetesVersion: ${version}`).replace('status: {', `${extra}status: {`);
const run = (node: Node, ...args: string[]) => node.exec(['/root/joinagent', ...args, '--config', CONFIG], { allowFailure: true, timeoutMs: 8 * 60_000 });
// JSON log lines (not a TTY) escape quotes: unescaped, the messages read as printed
const out = (r: { stdout: string; stderr: string }): string => `${r.stdout}\n${r.stderr}`.replaceAll('\\"', '"');
const debVersion = async (node: Node, p: string): Promise<string> => (await node.exec(['dpkg-query', '-W', '-f', '${Version}', p], { allowFailure: true })).stdout;
const held = async (node: Node): Promise<string[]> => (await node.exec(['apt-mark', 'showhold'])).stdout.split('\n').filter(Boolean);
const record = async (node: Node): Promise<{ version: string; upgrade?: { done: string[]; stoppedAt?: string } } | undefined> => {
  const text = await fs.readFile(node.hostPath(RECORD), 'utf8').catch(() => undefined);
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
};
const meOnCp = async (world: World) => {
  const hostname = (await world.node.exec(['hostname'])).stdout.trim();
  return (await world.cp!.nodes()).find((n) => n.name === hostname);
};

async function join(world: World): Promise<void> {
  await world.node.copyIn(binary, '/root/joinagent', 0o755);
  await world.node.writeFile(CONFIG, configAt(world, 'v1.32.11'), 0o600);
  const r = await run(world.node, 'run', '--once');
  assert.equal(r.exitCode, 0, out(r));
  await assertJoined(world);
  assert.equal((await record(world.node))?.version, 'v1.32.11', 'the node\'s version is recorded once joined');
  assert.equal((await meOnCp(world))?.kubeletVersion, 'v1.32.11', 'the kubelet reports its version on the Node');
}

async function assertUpgraded(world: World, version: string): Promise<void> {
  const { node } = world;
  const deb = `${version.slice(1)}-1.1`;
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.equal(await debVersion(node, p), deb, `${p} at ${deb}`);
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.ok((await held(node)).includes(p), `${p} held again`);
  await assertJoined(world);
  const me = await meOnCp(world);
  assert.equal(me?.kubeletVersion, version, 'the control plane sees the new kubelet');
  assert.equal(me?.ready, true);
  assert.ok((await k8sImages(node)).includes(`registry.k8s.io/kube-proxy:${version}`), 'the new kube-proxy image was pulled through the CRI');
  assert.match((await node.exec(['sh', '-c', 'ls /etc/kubernetes/tmp/'])).stdout, /kubeadm-kubelet-config-/, 'kubeadm upgrade node backed up the kubelet config');
  const rec = await record(node);
  assert.equal(rec?.version, version, 'the record moved to the new version');
  assert.equal(rec?.upgrade, undefined, 'nothing under way');
}

scenario('upgrade: refused (skew): a kubelet newer than the API server, a skipped minor, a downgrade; nothing changes', async () => {
  const { node } = w!;
  await join(w!);
  const debsBefore = (await node.exec(['dpkg-query', '-W'])).stdout;
  const listBefore = (await node.exec(['cat', '/etc/apt/sources.list.d/kubernetes.list'])).stdout;

  await node.writeFile(CONFIG, configAt(w!, 'v1.32.12'), 0o600);
  const plan = await run(node, 'plan');
  assert.equal(plan.exitCode, 1, out(plan));
  assert.match(plan.stdout, /upgrade v1\.32\.11 -> v1\.32\.12 refused: kubelet v1\.32\.12 would be newer than the API server v1\.32\.11/, plan.stdout);
  const r = await run(node, 'run', '--once', '--log-format', 'json');
  assert.equal(r.exitCode, 1, out(r));
  assert.match(out(r), /kubelet v1\.32\.12 would be newer than the API server v1\.32\.11: the skew policy forbids a kubelet newer than kube-apiserver/);
  assert.match(out(r), /upgrade the control plane first/);

  w!.cp!.setVersion!('v1.34.1');
  await node.writeFile(CONFIG, configAt(w!, 'v1.34.1'), 0o600);
  const skip = await run(node, 'run', '--once');
  assert.equal(skip.exitCode, 1, out(skip));
  assert.match(out(skip), /v1\.32\.11 -> v1\.34\.1 skips v1\.33: kubeadm upgrades one minor version at a time/);

  await node.writeFile(CONFIG, configAt(w!, 'v1.32.10'), 0o600);
  const down = await run(node, 'run', '--once');
  assert.equal(down.exitCode, 1, out(down));
  assert.match(out(down), /kubernetesVersion v1\.32\.10 is older than the v1\.32\.11 this node runs: kubeadm does not downgrade a joined node/);

  assert.equal((await node.exec(['dpkg-query', '-W'])).stdout, debsBefore, 'no package moved (the packages step kept the running version)');
  assert.equal((await node.exec(['cat', '/etc/apt/sources.list.d/kubernetes.list'])).stdout, listBefore, 'repository unchanged');
  assert.deepEqual(await record(node), { version: 'v1.32.11' });
  assert.equal((await meOnCp(w!))?.kubeletVersion, 'v1.32.11');
  w!.cp!.setVersion!('v1.32.11');
}, () => w?.node);

scenario('upgrade: patch: plan lists the actions in order, run --once upgrades kubeadm, runs kubeadm upgrade node, then the kubelet; Node reports it; a second run changes nothing', async () => {
  const { node } = w!;
  w!.cp!.setVersion!('v1.32.12');
  await node.writeFile(CONFIG, configAt(w!, 'v1.32.12'), 0o600);
  const plan = await run(node, 'plan');
  assert.equal(plan.exitCode, 0, out(plan));
  const order = [...plan.stdout.matchAll(/(\d)\/6 ([a-z-]+):/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(order, ['1 images', '2 kubeadm', '3 kubeadm-upgrade-node', '4 kubelet', '5 restart-kubelet', '6 verify'], plan.stdout);
  assert.doesNotMatch(plan.stdout, /package kubelet: /, 'the packages step does not jump to the new version');
  assert.equal(await debVersion(node, 'kubelet'), '1.32.11-1.1', 'plan changed nothing');

  const r = await run(node, 'run', '--once', '--log-format', 'json');
  assert.equal(r.exitCode, 0, out(r));
  await assertUpgraded(w!, 'v1.32.12');
  // kubeadm before kubelet, as the documentation orders them
  const dpkgLog = (await node.exec(['cat', '/var/log/dpkg.log'])).stdout;
  const at = (p: string): number => dpkgLog.indexOf(`upgrade ${p}:amd64 1.32.11-1.1 1.32.12-1.1`);
  assert.ok(at('kubeadm') >= 0 && at('kubelet') > at('kubeadm'), `kubeadm upgraded before kubelet:\n${dpkgLog.split('\n').filter((l) => / upgrade /.test(l)).join('\n')}`);
  assert.match(out(r), /the node is not drained \(upgrade\.drainKubeconfig is not set\)/);

  const again = await run(node, 'run', '--once', '--log-format', 'json');
  assert.equal(again.exitCode, 0, out(again));
  const ends = `${again.stdout}\n${again.stderr}`.split('\n').filter((l) => l.includes('"event":"step-end"')).map((l) => JSON.parse(l) as { step: string; state: string });
  assert.deepEqual(ends.filter((e) => e.state !== 'ok' && e.state !== 'skipped').map((e) => `${e.step}=${e.state}`), [], 'everything ok after the upgrade');

  await node.writeFile(CONFIG, configAt(w!, 'v1.32.11'), 0o600);
  const down = await run(node, 'run', '--once');
  assert.equal(down.exitCode, 1, 'going back is a downgrade: refused');
  assert.equal(await debVersion(node, 'kubelet'), '1.32.12-1.1');
}, () => w?.node);

scenario('upgrade: minor: the config changes and `systemctl reload` of the running agent switches the repository to v1.33 and upgrades the node; /status and /metrics show it', async () => {
  const { node } = w!;
  await node.writeFile(CONFIG, configAt(w!, 'v1.32.12', 'reconcile: { interval: 1h, mode: repair }\n'), 0o600);
  await node.exec(['systemd-run', '--unit=joinagent-adhoc', '/root/joinagent', 'run', '--config', CONFIG]);
  await waitForStatus(node, 'ready', (d) => d.ready, 120_000);
  w!.cp!.setVersion!('v1.33.2');
  await node.writeFile(CONFIG, configAt(w!, 'v1.33.2', 'reconcile: { interval: 1h, mode: repair }\n'), 0o600);
  // what `systemctl reload joinagent` does for the installed unit (ExecReload: kill -HUP)
  await node.exec(['systemctl', 'kill', '--kill-who=main', '-s', 'HUP', 'joinagent-adhoc']);
  const s = await waitForStatus(node, 'upgrade done', (d) => (d.published.upgrade as { state?: string } | undefined)?.state === 'done', 5 * 60_000);
  const up = s.published.upgrade as { from: string; to: string; kind: string; actions: string[]; drained: unknown };
  assert.deepEqual({ from: up.from, to: up.to, kind: up.kind }, { from: 'v1.32.12', to: 'v1.33.2', kind: 'minor' });
  assert.equal(up.actions[0], 'repository');
  assert.match(String(up.drained), /^no: upgrade\.drainKubeconfig is not set/);
  assert.match((await node.exec(['cat', '/etc/apt/sources.list.d/kubernetes.list'])).stdout, /core:\/stable:\/v1\.33\/deb\/ \//, 'the v1.33 repository');
  await assertUpgraded(w!, 'v1.33.2');
  assert.equal(await debVersion(node, 'cri-tools'), '1.33.0-1.1', 'cri-tools of the new minor');
  const metrics = (await node.exec(['curl', '-s', 'http://127.0.0.1:9797/metrics'])).stdout;
  assert.match(metrics, /joinagent_upgrade_state\{from="v1\.32\.12",to="v1\.33\.2",state="done",action=""\} 1/);
  await node.exec(['systemctl', 'stop', 'joinagent-adhoc']);
}, () => w?.node);

// Runs the agent in its own process group so the test can SIGKILL it and all it started
// (apt, dpkg, kubeadm) at once, as a crash under systemd's KillMode=control-group would.
async function startKillable(node: Node): Promise<void> {
  await node.exec(['setsid', '-f', 'sh', '-c', `echo $$ > /root/agent.pid; exec /root/joinagent run --once --config ${CONFIG} >/root/agent.log 2>&1`]);
}
async function killWhenDone(node: Node, action: string): Promise<void> {
  await waitFor(`${RECORD} records ${action} done`, async () => ((await record(node))?.upgrade?.done.includes(action) ? true : undefined), 5 * 60_000, 100);
  await node.exec(['sh', '-c', '/bin/kill -9 -- -$(cat /root/agent.pid)']);
  await waitFor('the agent is gone', async () => ((await node.exec(['sh', '-c', 'kill -0 $(cat /root/agent.pid) 2>/dev/null'], { allowFailure: true })).exitCode !== 0 ? true : undefined), 30_000, 200);
}

scenario('upgrade: killed midway: SIGKILL after the images, after kubeadm upgrade node (during the kubelet install) and after the kubelet install; a failed kubeadm upgrade node exits 5 naming where it stopped; the next run ends upgraded', async () => {
  await w?.close();
  w = await startWorld({ slot: 25, log });
  const { node } = w;
  await join(w);
  w.cp!.setVersion!('v1.32.12');
  await node.writeFile(CONFIG, configAt(w, 'v1.32.12'), 0o600);

  for (const action of ['images', 'kubeadm-upgrade-node', 'kubelet']) {
    await startKillable(node);
    await killWhenDone(node, action);
    const rec = await record(node);
    assert.ok(rec?.upgrade?.done.includes(action), `killed with ${action} recorded: ${JSON.stringify(rec)}`);
    log(`killed after ${action}: done ${rec?.upgrade?.done.join(', ')}; kubeadm ${await debVersion(node, 'kubeadm')}, kubelet ${await debVersion(node, 'kubelet')}`);
  }

  // the cluster stops serving the kubelet config: a resumed run fails at kubeadm upgrade
  // node only if it had to run it again; undo the last done actions to force it
  const rec = (await record(node))!;
  await node.writeFile(RECORD, JSON.stringify({ ...rec, upgrade: { ...rec.upgrade, done: ['images', 'kubeadm'] } }), 0o644);
  w.cp!.serveKubeletConfig!(false);
  const failed = await run(node, 'run', '--once');
  assert.equal(failed.exitCode, 5, `an upgrade stopped midway exits 5:\n${out(failed)}`);
  assert.match(out(failed), /upgrade v1\.32\.11 -> v1\.32\.12 stopped at kubeadm-upgrade-node \(action 3 of 6\): kubeadm upgrade node failed: unable to fetch the kubeadm-config ConfigMap: .*configmaps "kubelet-config" not found/);
  assert.match(out(failed), /the next run resumes at kubeadm-upgrade-node/);
  assert.equal((await record(node))?.upgrade?.stoppedAt, 'kubeadm-upgrade-node');
  w.cp!.serveKubeletConfig!(true);

  const r = await run(node, 'run', '--once', '--log-format', 'json');
  assert.equal(r.exitCode, 0, out(r));
  assert.match(out(r), /resuming after 2 of 6 actions done/);
  await assertUpgraded(w, 'v1.32.12');
}, () => w?.node);
