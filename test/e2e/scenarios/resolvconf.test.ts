import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { after, before } from 'node:test';
import { ensureBinary, runOnce, type OnceRun } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { distroDebs } from '../harness/debs.js';
import { linkFor } from '../harness/paths.js';
import type { Node } from '../harness/node.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';
import type { ControlPlane as Fixture } from '../../fixtures/controlplane.js';

// The kubelet's resolvConf under systemd-resolved (issue 16). A kubeadm cluster made on a
// systemd-resolved host before kubeadm v1.31 (or configured so) carries
// `resolvConf: /run/systemd/resolve/resolv.conf` in its cluster-wide kubelet-config, and
// kubeadm join copies it to every node: on a node without systemd-resolved the file does
// not exist and the kubelet fails every pod sandbox (kube-proxy's first). The opposite: a
// cluster saying /etc/resolv.conf and a node whose /etc/resolv.conf is resolved's
// 127.0.0.53 stub, which inside a pod is the pod itself. joinagent gives this node's
// kubelet the host's real file with a kubeadm patch, says so, and plan shows it first.
const RESOLVED = '/run/systemd/resolve/resolv.conf';
const CONFIG = '/root/joinagent.yaml';
const PATCH = '/var/lib/joinagent/patches/kubeletconfiguration-resolvconf+merge.yaml';
let binary = '';
let w: World | undefined;

before(async () => {
  binary = await ensureBinary(log);
});
after(cleanupAll);

type Run = OnceRun;
const run = (node: Node, args: string[] = []): Promise<Run> => runOnce(node, CONFIG, args);
const kubeletResolvConf = async (node: Node): Promise<string | undefined> => /^resolvConf:\s*(\S+)/m.exec((await node.exec(['cat', '/var/lib/kubelet/config.yaml'])).stdout)?.[1];

async function setUp(world: World, kubelet: Record<string, unknown>): Promise<Fixture> {
  const fx = world.cp!.fixture as unknown as Fixture;
  fx.configMaps.options = { ...fx.configMaps.options, kubelet };
  await world.node.copyIn(binary, '/root/joinagent', 0o755);
  await world.node.writeFile(CONFIG, world.config, 0o600);
  return fx;
}

scenario('resolvconf: the cluster says /run/systemd/resolve/resolv.conf, the Debian node has no systemd-resolved: plan shows the patch, the kubelet gets /etc/resolv.conf, kube-proxy runs', async () => {
  w = await startWorld({ slot: 50, log });
  const { node } = w;
  await setUp(w, { resolvConf: RESOLVED });
  assert.notEqual((await node.exec(['systemctl', 'is-active', 'systemd-resolved'], { allowFailure: true })).stdout.trim(), 'active');
  assert.equal((await node.exec(['test', '-e', RESOLVED], { allowFailure: true })).exitCode, 1, 'the node has no resolved file');

  const plan = await node.exec(['/root/joinagent', 'plan', '--config', CONFIG], { allowFailure: true, timeoutMs: 5 * 60_000 });
  const planOut = `${plan.stdout}\n${plan.stderr}`;
  assert.match(planOut, /resolvConf \/run\/systemd\/resolve\/resolv\.conf \(the cluster's kubelet-config\) does not exist on this host \(systemd-resolved is not running\): this node's kubelet gets \/etc\/resolv\.conf/, planOut);
  assert.match(plan.stdout, /\+\+\+ \/var\/lib\/joinagent\/patches\/kubeletconfiguration-resolvconf\+merge\.yaml/, plan.stdout);
  assert.match(plan.stdout, /^ +\+resolvConf: \/etc\/resolv\.conf$/m, plan.stdout);
  assert.equal((await node.exec(['test', '-e', PATCH], { allowFailure: true })).exitCode, 1, 'plan wrote nothing');

  const r = await run(node);
  assert.equal(r.exitCode, 0, `run exited ${r.exitCode}:\n${r.out}`);
  assert.match(r.out, /preflight: resolvConf \/run\/systemd\/resolve\/resolv\.conf \(the cluster's kubelet-config\) does not exist on this host .*this node's kubelet gets \/etc\/resolv\.conf \(kubeadm patch \/var\/lib\/joinagent\/patches\/kubeletconfiguration-resolvconf\+merge\.yaml\)/);
  assert.equal(await kubeletResolvConf(node), '/etc/resolv.conf', 'kubeadm applied the patch to config.yaml');
  assert.match((await node.exec(['cat', PATCH])).stdout, /^resolvConf: \/etc\/resolv\.conf$/m);
  assert.match((await node.exec(['cat', '/var/lib/joinagent/kubeadm-join.yaml'])).stdout, /^patches:\n {2}directory: \/var\/lib\/joinagent\/patches$/m);
  assert.match(r.out, /kubelet-resolvconf: ok/);
  assert.match(r.out, /kube-proxy: ok - kube-proxy-\w+ Running/);

  const again = await run(node);
  assert.equal(again.exitCode, 0, again.out);
  assert.doesNotMatch(again.out, /: changed/, `a second run changes nothing:\n${again.out}`);

  // the fix undone (as `kubeadm upgrade node` without the patches would): the next run puts it back
  await node.sh(`sed -i 's|^resolvConf: .*|resolvConf: ${RESOLVED}|' /var/lib/kubelet/config.yaml && systemctl restart kubelet`);
  const plan2 = await node.exec(['/root/joinagent', 'plan', '--config', CONFIG], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.match(plan2.stdout, /kubelet resolvConf: \/run\/systemd\/resolve\/resolv\.conf -> \/etc\/resolv\.conf/, plan2.stdout);
  const repaired = await run(node);
  assert.equal(repaired.exitCode, 0, repaired.out);
  assert.match(repaired.out, /kubelet-resolvconf: changed/);
  assert.equal(await kubeletResolvConf(node), '/etc/resolv.conf');
  assert.match(repaired.out, /kube-proxy: ok - kube-proxy-\w+ Running/);
  await w.close();
  w = undefined;
}, () => w?.node);

// A node with Debian's real systemd-resolved running (its package from the distribution
// mirror, installed after boot: its postinst links /etc/resolv.conf to the stub and starts
// the service), with the test host on the link as its upstream server (nothing on the
// node resolves names, so no query leaves it).
async function resolvedWorld(slot: number): Promise<World> {
  const [deb] = await distroDebs(['systemd-resolved']);
  const world = await startWorld({
    slot,
    log,
    beforeBoot: async (root) => {
      await fs.copyFile(deb, `${root}/root/systemd-resolved.deb`);
      await fs.mkdir(`${root}/etc/systemd/resolved.conf.d`, { recursive: true });
      await fs.writeFile(`${root}/etc/systemd/resolved.conf.d/e2e.conf`, `[Resolve]\nDNS=${linkFor(slot).host}\n`);
    },
  });
  const { node } = world;
  await node.exec(['dpkg', '-i', '/root/systemd-resolved.deb'], { timeoutMs: 120_000 });
  const active = await node.exec(['systemctl', 'is-active', 'systemd-resolved'], { allowFailure: true });
  assert.equal(active.stdout.trim(), 'active', `systemd-resolved runs in the node:\n${(await node.exec(['journalctl', '-u', 'systemd-resolved', '--no-pager', '-n', '30'], { allowFailure: true })).stdout}`);
  assert.match((await node.exec(['cat', '/etc/resolv.conf'])).stdout, /^nameserver 127\.0\.0\.53$/m, '/etc/resolv.conf is the stub');
  assert.match((await node.exec(['cat', RESOLVED])).stdout, /^nameserver \S+$/m, `${RESOLVED} lists the upstream server`);
  return world;
}

scenario('resolvconf: a node running systemd-resolved (127.0.0.53 stub), the cluster says /etc/resolv.conf: the kubelet gets resolved\'s upstream file', async () => {
  w = await resolvedWorld(51);
  const { node } = w;
  await setUp(w, { resolvConf: '/etc/resolv.conf' });

  const r = await run(node);
  assert.equal(r.exitCode, 0, `run exited ${r.exitCode}:\n${r.out}`);
  assert.match(r.out, /preflight: resolvConf \/etc\/resolv\.conf \(the cluster's kubelet-config\) names only loopback nameservers \(127\.0\.0\.53.*\(systemd-resolved is running\): this node's kubelet gets \/run\/systemd\/resolve\/resolv\.conf/);
  assert.equal(await kubeletResolvConf(node), RESOLVED);
  assert.match(r.out, /kube-proxy: ok - kube-proxy-\w+ Running/);
  const again = await run(node);
  assert.doesNotMatch(again.out, /: changed/, `a second run changes nothing:\n${again.out}`);
  await w.close();
  w = undefined;
}, () => w?.node);

scenario('resolvconf: a node running systemd-resolved, the cluster leaves resolvConf unset (kubeadm v1.31+): kubeadm\'s own per-node choice stands, no patch', async () => {
  w = await resolvedWorld(52);
  const { node } = w;
  await setUp(w, {});
  const r = await run(node);
  assert.equal(r.exitCode, 0, `run exited ${r.exitCode}:\n${r.out}`);
  assert.doesNotMatch(r.out, /preflight: resolvConf/, 'nothing to say');
  // kubeadm join's Mutate wrote resolved's file, as kubeadm does on a resolved node
  assert.equal(await kubeletResolvConf(node), RESOLVED);
  assert.equal((await node.exec(['test', '-e', PATCH], { allowFailure: true })).exitCode, 1, 'no patch of joinagent\'s');
  assert.match(r.out, /kubelet-resolvconf: ok/, 'nothing to repair after the join either');
  assert.match(r.out, /kube-proxy: ok - kube-proxy-\w+ Running/);
  await w.close();
  w = undefined;
}, () => w?.node);
