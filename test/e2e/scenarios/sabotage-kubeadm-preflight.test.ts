import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { StatusDocument } from '../../../src/status/model.js';
import { ensureBinary, waitForStatus } from '../harness/agent.js';
import { assertJoined } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import type { Node } from '../harness/node.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// Sabotage: one node the agent would join, broken in one way at a time, each run with
// --skip of the step(s) that would repair it. The strict kubeadm stand-in must stop the
// join where kubeadm v1.32 stops it, and the agent must name the cause in its output
// and /status. The last scenario runs without --skip: the same node joins.
//
// What kubeadm v1.32 does with each fault (cmd/kubeadm/app/preflight/checks.go):
//   ip_forward 0      [ERROR FileContent--proc-sys-net-ipv4-ip_forward] in pre-flight;
//   wrong criSocket   cri-client cannot connect, so kubeadm only WARNS ("Couldn't create
//   containerd down   the interface used for talking to the container runtime") and runs
//                     no CRI check; the join fails when the kubelet cannot reach the CRI
//                     ([kubelet-check]); that side is the kubelet stand-in's runtime
//                     checks (kubelet-real's part of issue 14): until the kubelet refuses
//                     to start without its CRI, these two scenarios join and fail;
//                     (a wrong criSocket is first caught by the agent's own images step);
//   swap on           only [WARNING Swap]: the kubelet refuses to start (kubelet stand-in).
let w: World | undefined;
const CONFIG = '/root/joinagent.yaml';
// kubeadm waits 4m0s for the kubelet's healthz by default: these scenarios shorten it
const SHORT_HEALTH_CHECK = 'timeouts:\n  kubeletHealthCheck: 40s\n';

before(async () => {
  const binary = await ensureBinary(log);
  w = await startWorld({ slot: 21, log });
  await w.node.copyIn(binary, '/root/joinagent', 0o755);
});
after(cleanupAll);

const runOnce = (node: Node, args: string[] = []) => node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG, ...args], { allowFailure: true, timeoutMs: 10 * 60_000 });

// The JoinConfiguration of the world's config with criSocket and extra top-level fields changed.
function configWith(o: { criSocket?: string; joinExtra?: string } = {}): string {
  let c = w!.config;
  if (o.criSocket) c = c.replace('criSocket: "unix:///run/containerd/containerd.sock"', `criSocket: "${o.criSocket}"`);
  return o.joinExtra ? `${c.replace(/\n$/, '')}\n${o.joinExtra}` : c;
}

// /status of the agent run as a daemon with the same arguments, once the join has failed.
async function failedStatus(node: Node, args: string[]): Promise<StatusDocument> {
  await node.exec(['systemd-run', '--unit=joinagent-sabotage', '/root/joinagent', 'run', '--config', CONFIG, ...args]);
  try {
    return await waitForStatus(node, 'join failed', (s) => s.steps.some((x) => x.id === 'join' && x.state === 'failed'), 8 * 60_000);
  } finally {
    await node.exec(['systemctl', 'stop', 'joinagent-sabotage'], { allowFailure: true });
    await node.exec(['systemctl', 'reset-failed', 'joinagent-sabotage'], { allowFailure: true });
  }
}

// What the operator does after a failed kubelet-start: kubeadm reset, as its output says.
async function resetNode(node: Node): Promise<void> {
  await node.exec(['kubeadm', 'reset', '--force'], { allowFailure: true });
}

scenario('sabotage: net.ipv4.ip_forward=0 with --skip sysctl fails kubeadm pre-flight, named in output and /status', async () => {
  const { node } = w!;
  await node.writeFile(CONFIG, configWith(), 0o600);
  await node.exec(['sysctl', '-w', 'net.ipv4.ip_forward=0']);
  const r = await runOnce(node, ['--skip', 'sysctl']);
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.exitCode, 1, `run --once must fail:\n${out}`);
  assert.match(out, /FileContent--proc-sys-net-ipv4-ip_forward/, out);
  assert.match(out, /\/proc\/sys\/net\/ipv4\/ip_forward contents are not set to 1/, out);
  assert.equal((await node.exec(['test', '-e', '/etc/kubernetes/bootstrap-kubelet.conf'], { allowFailure: true })).exitCode, 1, 'pre-flight stopped the join before kubelet-start');
  const s = await failedStatus(node, ['--skip', 'sysctl']);
  const join = s.steps.find((x) => x.id === 'join')!;
  assert.match(`${join.message} ${join.hint ?? ''}`, /ip_forward/, JSON.stringify(join));
}, () => w?.node);

scenario('sabotage: a wrong criSocket: the agent names it; with --skip images kubeadm only warns and the join fails at the kubelet, named in the output', async () => {
  const { node } = w!;
  const sock = 'unix:///run/containerd/containerd-typo.sock';
  await node.exec(['sysctl', '-w', 'net.ipv4.ip_forward=1']);
  await node.writeFile(CONFIG, configWith({ criSocket: sock, joinExtra: SHORT_HEALTH_CHECK }), 0o600);
  // the agent's own images step talks to the configured socket first
  const own = await runOnce(node);
  assert.equal(own.exitCode, 1, `run --once must fail:\n${own.stdout}\n${own.stderr}`);
  assert.match(`${own.stdout}\n${own.stderr}`, /images: failed - runtime socket \/run\/containerd\/containerd-typo\.sock \(nodeRegistration\.criSocket unix:\/\/\/run\/containerd\/containerd-typo\.sock\) does not exist/);
  // past it, kubeadm v1.32 cannot connect to the CRI: a pre-flight WARNING, then the kubelet cannot start
  const r = await runOnce(node, ['--skip', 'images']);
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.exitCode, 1, `run --once must fail:\n${out}`);
  // the kubelet's own fatal line names the endpoint, the hint names the setting
  assert.match(out, /join: failed - kubelet did not become healthy: failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint \\?"unix:\/\/\/run\/containerd\/containerd-typo\.sock/, out);
  assert.match(out, /nodeRegistration\.criSocket \(unix:\/\/\/run\/containerd\/containerd-typo\.sock\)/, out);
  await resetNode(node);
}, () => w?.node);

scenario('sabotage: containerd stopped with --skip containerd-running,images: the join fails, the runtime named in the output', async () => {
  const { node } = w!;
  await node.writeFile(CONFIG, configWith({ joinExtra: SHORT_HEALTH_CHECK }), 0o600);
  await node.exec(['systemctl', 'stop', 'containerd']);
  try {
    const r = await runOnce(node, ['--skip', 'containerd-running,images']);
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.exitCode, 1, `run --once must fail:\n${out}`);
    assert.match(out, /join: failed - kubelet did not become healthy: failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint \\?"unix:\/\/\/run\/containerd\/containerd\.sock\\?": rpc error: code = Unavailable/, out);
    assert.match(out, /start containerd \(`systemctl start containerd`/, out);
  } finally {
    await resetNode(node);
    await node.exec(['systemctl', 'start', 'containerd']);
  }
}, () => w?.node);

scenario('sabotage undone: without --skip the same node joins', async () => {
  const { node } = w!;
  await node.writeFile(CONFIG, configWith(), 0o600);
  const r = await runOnce(node);
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  assert.equal((await node.exec(['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim(), '1');
  await assertJoined(w!);
}, () => w?.node);
