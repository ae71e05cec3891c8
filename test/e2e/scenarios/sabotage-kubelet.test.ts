import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary, waitForStatus, runOnce, type OnceRun } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { FLANNEL_CONFLIST, FLANNEL_CONFLIST_PATH } from '../harness/cni.js';
import type { Node } from '../harness/node.js';
import { startRegistry } from '../harness/registry.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World, type WorldOptions } from '../harness/world.js';
import type { ControlPlane as Fixture } from '../../fixtures/controlplane.js';

// Sabotage of what the kubelet needs after its join (issue 14), each on a node the agent
// would otherwise join, with --skip of the step(s) that would repair it: the run fails
// where the real kubelet (or the agent's post-join proof) would, and the output and
// /status name the cause. Without --skip, the same node then joins.
// No pod can run in a booted nspawn node here: runc fails "unable to apply cgroup
// configuration: mkdir /sys/fs/cgroup/cpuset/...: read-only file system" (this host is
// cgroup v1 hybrid and nspawn mounts the v1 controllers read-only in the node). The
// kubelet stand-in therefore decides kube-proxy's pod from the preconditions it reads
// through the CRI (runtime config, image status) and reports it as the real kubelet does
// (test/fixtures/standins/kubelet-runtime.sh).
const CONFIG = '/root/joinagent.yaml';
let binary = '';
let w: World | undefined;

before(async () => {
  binary = await ensureBinary(log);
});
after(cleanupAll);

type Run = OnceRun;
const run = (node: Node, args: string[] = []): Promise<Run> => runOnce(node, CONFIG, args);

// A fresh node whose host the agent prepared (packages, containerd, images) without
// joining it: the sabotage then meets a node that would join.
async function preparedWorld(slot: number, o: Partial<WorldOptions> = {}): Promise<World> {
  const world = await startWorld({ slot, log, ...o });
  await world.node.copyIn(binary, '/root/joinagent', 0o755);
  // a short wait for Ready and for kube-proxy: the failures under test are permanent
  await world.node.writeFile(CONFIG, world.config.replace('status: { address', 'join: { waitForReady: 30s }\nstatus: { address'), 0o600);
  const r = await run(world.node, ['--skip', 'join']);
  assert.equal(r.exitCode, 0, `preparing the host exited ${r.exitCode}:\n${r.out}`);
  return world;
}

// The daemon's /status for the same sabotaged run: lastError names the step and cause.
async function statusNames(node: Node, skip: string | undefined, step: string, cause: RegExp): Promise<void> {
  await node.exec(['systemd-run', '--unit=joinagent-adhoc', '/root/joinagent', 'run', '--config', CONFIG, ...(skip ? ['--skip', skip] : [])]);
  try {
    const s = await waitForStatus(node, `lastError at ${step}`, (d) => d.lastError?.step === step, 4 * 60_000);
    assert.match(s.lastError!.message, cause, `/status lastError: ${JSON.stringify(s.lastError)}`);
  } finally {
    await node.exec(['systemctl', 'stop', 'joinagent-adhoc'], { allowFailure: true });
    await node.exec(['systemctl', 'reset-failed', 'joinagent-adhoc'], { allowFailure: true });
  }
}

async function assertJoinsWithoutSkip(world: World): Promise<void> {
  const r = await run(world.node);
  assert.equal(r.exitCode, 0, `without --skip the node joins, but run exited ${r.exitCode}:\n${r.out}`);
  assert.match(r.out, /kube-proxy: ok - kube-proxy-\w+ Running/);
  const nodes = await world.cp!.nodes();
  assert.ok(nodes.some((n) => n.ready), `the Node is Ready: ${JSON.stringify(nodes)}`);
}

scenario('sabotage: containerd\'s runc SystemdCgroup = false: joins, kube-proxy\'s sandbox is re-created, the post-join proof names the driver', async () => {
  w = await preparedWorld(30);
  const { node } = w;
  await node.sh("sed -i 's/SystemdCgroup = true/SystemdCgroup = false/' /etc/containerd/config.toml && systemctl restart containerd");
  const skip = 'containerd-config,cgroup-driver';
  const r = await run(node, ['--skip', skip]);
  assert.equal(r.exitCode, 1, `run exited ${r.exitCode}:\n${r.out}`);
  assert.match(r.out, /join: changed/, 'a wrong cgroup driver does not fail the join itself');
  assert.match(r.out, /kube-proxy: failed - kube-proxy-\w+ is not running: .*CrashLoopBackOff.*re-created because containerd's runc SystemdCgroup = false \(cgroupfs\) but kubelet uses systemd/);
  assert.match(r.out, /hint: set SystemdCgroup = true/);
  const journal = (await node.exec(['journalctl', '-u', 'kubelet', '-o', 'cat', '--no-pager'])).stdout;
  assert.match(journal, /Falling back to using cgroupDriver from kubelet config/, 'containerd 1.6 has no RuntimeConfig: the kubelet uses its own cgroupDriver');
  assert.match(journal, /Pod sandbox changed, it will be killed and re-created/);
  await statusNames(node, skip, 'kube-proxy', /SystemdCgroup = false/);
  await assertJoinsWithoutSkip(w);
  await w.close();
  w = undefined;
}, () => w?.node);

scenario('sabotage: the sandbox image missing with the registry down: kube-proxy stays ContainerCreating, the proof names pause:3.10', async () => {
  w = await preparedWorld(31);
  const { node } = w;
  await w.registry.close();
  // the tag only: the tiny test images share their content with kube-proxy's
  await node.exec(['ctr', '-n', 'k8s.io', 'images', 'rm', 'registry.k8s.io/pause:3.10']);
  const skip = 'images';
  const r = await run(node, ['--skip', skip]);
  assert.equal(r.exitCode, 1, `run exited ${r.exitCode}:\n${r.out}`);
  assert.match(r.out, /kube-proxy: failed - kube-proxy-\w+ is not running: Pending, ContainerCreating: the pod sandbox cannot start: containerd's sandbox image registry\.k8s\.io\/pause:3\.10 is not on this node/);
  const journal = (await node.exec(['journalctl', '-u', 'kubelet', '-o', 'cat', '--no-pager'])).stdout;
  assert.match(journal, /RunPodSandbox from runtime service failed.*failed to get sandbox image \\"registry\.k8s\.io\/pause:3\.10\\"/);
  await statusNames(node, skip, 'kube-proxy', /sandbox image registry\.k8s\.io\/pause:3\.10/);
  // the registry back (same address): the images step pulls pause again and the node joins
  const registry = await startRegistry(node.link.host);
  try {
    await assertJoinsWithoutSkip(w);
  } finally {
    await registry.close();
  }
  await w.close().catch(() => undefined);
  w = undefined;
}, () => w?.node);

scenario('sabotage: swap on: the kubelet refuses to start with its own message, the join fails naming it', async () => {
  w = await preparedWorld(32);
  const { node } = w;
  // /proc/swaps is host-wide under nspawn: on for as short as possible, off in finally
  await node.sh('dd if=/dev/zero of=/swapfile bs=1M count=32 status=none && chmod 600 /swapfile && mkswap -q /swapfile');
  try {
    await node.exec(['swapon', '/swapfile']);
    const r = await run(node, ['--skip', 'swap']);
    assert.equal(r.exitCode, 1, `run exited ${r.exitCode}:\n${r.out}`);
    assert.match(r.out, /join: failed - kubelet did not become healthy: failed to run Kubelet: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false/);
    await statusNames(node, 'swap', 'join', /running with swap on is not supported/);
  } finally {
    await node.exec(['swapoff', '/swapfile'], { allowFailure: true });
  }
  await node.sh('swapon /swapfile');
  try {
    // the swap step turns it off (and keeps it off): the same node joins
    await assertJoinsWithoutSkip(w);
  } finally {
    await node.exec(['swapoff', '/swapfile'], { allowFailure: true });
  }
  await w.close();
  w = undefined;
}, () => w?.node);

scenario('sabotage: the CNI never reaches the node: joined, NotReady with the kubelet\'s reason, the run fails', async () => {
  w = await preparedWorld(33, { cni: 'none' });
  const { node } = w;
  const r = await run(node);
  assert.equal(r.exitCode, 1, `run exited ${r.exitCode}:\n${r.out}`);
  assert.match(r.out, /join: changed/);
  assert.match(r.out, /node-ready: failed - joined, waiting for Ready: KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized/);
  // the node's own state names the cause (issue 16's classification) and the next action
  assert.match(r.out, /likely cause: no CNI network config in \/etc\/cni\/net\.d: the cluster's network add-on has not run on this node/);
  assert.match(r.out, /hint: on the control plane: is the CNI DaemonSet \(e\.g\. `kubectl -n kube-flannel get ds`\) scheduled to this node\?/);
  await statusNames(node, undefined, 'node-ready', /NetworkReady=false reason:NetworkPluginNotReady/);
  // flannel's install-cni arrives: the same node becomes Ready and the run passes
  await node.writeFile(FLANNEL_CONFLIST_PATH, FLANNEL_CONFLIST);
  await assertJoinsWithoutSkip(w);
  await w.close();
  w = undefined;
}, () => w?.node);

scenario('sabotage: containerd stopped (its steps and images skipped): the kubelet refuses to start without its CRI, the join names the endpoint', async () => {
  w = await preparedWorld(34);
  const { node } = w;
  await node.exec(['systemctl', 'stop', 'containerd']);
  const skip = 'containerd-running,images';
  const r = await run(node, ['--skip', skip]);
  assert.equal(r.exitCode, 1, `run exited ${r.exitCode}:\n${r.out}`);
  // the kubelet's own words; kubeadm v1.32's CRI preflight check, where the kubeadm
  // stand-in runs it, stops the join earlier with "container runtime is not running"
  assert.match(r.out, /join: failed - .*(validate CRI v1 runtime API for endpoint \\"unix:\/\/\/run\/containerd\/containerd\.sock\\": rpc error: code = Unavailable|container runtime is not running)/);
  await statusNames(node, skip, 'join', /validate CRI v1 runtime API|container runtime is not running/);
  await assertJoinsWithoutSkip(w);
  await w.close();
  w = undefined;
}, () => w?.node);

scenario('sabotage: the cluster\'s resolvConf names a file the node lacks, the agent\'s fix skipped: kube-proxy\'s sandbox cannot be created, the proof names resolvConf', async () => {
  w = await preparedWorld(37);
  const { node } = w;
  // a cluster made on a systemd-resolved host before kubeadm v1.31; this Debian node has none
  const fx = w.cp!.fixture as unknown as Fixture;
  fx.configMaps.options = { ...fx.configMaps.options, kubelet: { resolvConf: '/run/systemd/resolve/resolv.conf' } };
  // preflight decides the patch before the join, kubelet-resolvconf repairs after it
  const skip = 'preflight,kubelet-resolvconf';
  const r = await run(node, ['--skip', skip]);
  assert.equal(r.exitCode, 1, `run exited ${r.exitCode}:\n${r.out}`);
  assert.match(r.out, /join: changed/, 'a missing resolvConf does not fail the join itself: the kubelet starts');
  assert.match(r.out, /kube-proxy: failed - kube-proxy-\w+ is not running: Pending, ContainerCreating: the kubelet cannot create its pod sandbox: resolvConf \/run\/systemd\/resolve\/resolv\.conf \(in \/var\/lib\/kubelet\/config\.yaml\) does not exist on this node/);
  assert.match(r.out, /hint: joinagent's kubelet-resolvconf step sets this node's resolvConf/);
  const journal = (await node.exec(['journalctl', '-u', 'kubelet', '-o', 'cat', '--no-pager'])).stdout;
  assert.match(journal, /"Failed to generate sandbox config for pod" err="open \/run\/systemd\/resolve\/resolv\.conf: no such file or directory" pod="kube-system\/kube-proxy-\w+"/);
  assert.match(journal, /with CreatePodSandboxError: \\"Failed to create sandbox for pod/);
  await statusNames(node, skip, 'kube-proxy', /resolvConf \/run\/systemd\/resolve\/resolv\.conf \(in \/var\/lib\/kubelet\/config\.yaml\) does not exist on this node/);
  // without --skip the post-join step gives the kubelet /etc/resolv.conf and restarts it
  await assertJoinsWithoutSkip(w);
  assert.match((await node.exec(['cat', '/var/lib/kubelet/config.yaml'])).stdout, /^resolvConf: \/etc\/resolv\.conf$/m);
  await w.close();
  w = undefined;
}, () => w?.node);
