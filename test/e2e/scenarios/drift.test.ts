import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary, k8sImages, statusInNode } from '../harness/agent.js';
import { assertHostPrepared, assertJoined, assertRuntimeReady, EXPECTED_IMAGES } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { assertNoCollateral, assertNodeReadySince, driftCounters, findingAfter, firstPassAfter, hostWitness, metricsInNode, passEndingAfter, type Allowed } from '../harness/drift.js';
import { log, scenario } from '../harness/scenario.js';
import { waitFor } from '../harness/sh.js';
import { startWorld, type World } from '../harness/world.js';

// Drift repair on a real node: one joined node, the agent under systemd (`install --now`)
// with a short reconcile.interval, broken one way at a time. Each break is its own
// scenario and is asserted on its own: the first pass that starts after the break finds
// it, repairs it (or, in report mode, only reports it), /status and /metrics count it,
// the next pass finds nothing, the Node is Ready with a fresh heartbeat, and nothing but
// the drifted thing changed (/etc hashes, PID 1's journal, unit start times).
const SLOT = 81;
const INTERVAL = '15s';
const CONFIG = '/etc/joinagent/config.yaml';
// /proc/swaps is host-wide under nspawn and shows another node's /swapfile as "/swapfile":
// a name of its own keeps this node's agent and another scenario's apart
const SWAP = '/swapfile-drift';
let w: World | undefined;
let binary = '';

const withReconcile = (config: string, mode: 'repair' | 'report'): string => config.replace('\n---\n', `\nreconcile: { interval: ${INTERVAL}, mode: ${mode} }\n---\n`);

before(async () => {
  binary = await ensureBinary(log);
  // swapoff is the repair of the swap break: nspawn's seccomp filter denies it to the
  // node's services (the agent runs as one), a real host does not
  w = await startWorld({ slot: SLOT, log, tokenFile: '/etc/joinagent/token', allowSyscalls: ['@swap'] });
});
after(cleanupAll);

const node = () => w!.node;
const read = async (f: string): Promise<string> => (await node().exec(['cat', f])).stdout;

interface Break {
  /** Steps whose check must find this break (and repair it). */
  steps: string[];
  /** Set-up that is not the break itself (a swap file made ready). */
  prepare?: () => Promise<void>;
  apply: () => Promise<void>;
  /** The host really is broken (the break did what it says). */
  broken: () => Promise<void>;
  /** The host is as the agent left it before the break. */
  repaired: () => Promise<void>;
  allowed: Allowed;
}

// Lets a pass end, breaks the host in the pause that follows, then follows the first pass
// that starts after the break: it must find and repair the break, the next pass must find
// nothing, and nothing outside b.allowed may have changed meanwhile.
async function breakAndRepair(b: Break): Promise<void> {
  await b.prepare?.();
  const s0 = await statusInNode(node());
  await passEndingAfter(node(), s0.drift.lastCheck ?? '');
  const m0 = await metricsInNode(node());
  const d0 = (await statusInNode(node())).drift;
  const witness = await hostWitness(node());
  await b.apply();
  const brokeAt = new Date().toISOString();
  await b.broken();

  const startsAt = await firstPassAfter(node(), brokeAt);
  const end = await passEndingAfter(node(), startsAt);
  for (const step of b.steps) {
    const f = findingAfter(end.drift, step, brokeAt);
    assert.ok(f, `${step}: the first pass after the break (started ${startsAt}) found the drift: ${JSON.stringify(end.drift.recent)}`);
    assert.ok(f.changes.length > 0, `${step}: /status says what differed`);
    assert.equal(f.error, undefined, `${step}: repaired without error`);
    assert.equal(f.repaired, true, `${step}: repaired (reconcile.mode: repair)`);
  }
  assert.deepEqual(end.drift.steps, [], 'no step left drifted');
  assert.equal(end.drift.detected, d0.detected + b.steps.length, '/status drift.detected counts the finding(s)');
  assert.equal(end.drift.repairs, d0.repairs + b.steps.length, '/status drift.repairs counts the repair(s)');
  const m1 = await metricsInNode(node());
  for (const step of b.steps) {
    const [before, now] = [driftCounters(m0, step), driftCounters(m1, step)];
    assert.deepEqual(now, { detected: before.detected + 1, repairs: before.repairs + 1, failures: before.failures }, `/metrics joinagent_drift_*_total{step="${step}"}`);
  }
  assert.equal(m1.get('joinagent_drifted_steps'), 0, '/metrics joinagent_drifted_steps');
  await b.repaired();

  // the repair holds: the next pass finds nothing
  const next = await passEndingAfter(node(), end.drift.lastCheck!);
  assert.deepEqual(next.drift.recent.filter((r) => r.at > end.drift.lastCheck!), [], 'the pass after the repair found no drift');
  await assertNoCollateral(node(), witness, b.allowed);
  await assertNodeReadySince(w!, brokeAt);
  assert.equal((await statusInNode(node())).ready, true, '/status ready');
}

// reconcile.mode changed the way an operator does it: edit the config, systemctl reload.
async function setMode(mode: 'repair' | 'report'): Promise<string> {
  const before = (await statusInNode(node())).agent.configReloadedAt ?? '';
  await node().writeFile(CONFIG, withReconcile(w!.config, mode), 0o600);
  await node().exec(['systemctl', 'reload', 'joinagent']);
  const s = await waitFor('the agent to reload its config', async () => {
    const d = await statusInNode(node());
    return (d.agent.configReloadedAt ?? '') > before ? d : undefined;
  }, 60_000, 300);
  return s.agent.configReloadedAt!;
}

scenario('drift: the agent under systemd joins, then checks every 15s (repair)', async () => {
  await node().copyIn(binary, '/root/joinagent', 0o755);
  await node().writeFile('/root/joinagent.yaml', withReconcile(w!.config, 'repair'), 0o600);
  await node().writeFile('/etc/joinagent/token', `${w!.token}\n`, 0o600);
  const r = await node().exec(['/root/joinagent', 'install', '--now', '--config', '/root/joinagent.yaml'], { allowFailure: true, timeoutMs: 60_000 });
  assert.equal(r.exitCode, 0, `install --now exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  const wait = await node().exec(['joinagent', 'status', '--wait', '--timeout', '8m'], { allowFailure: true, timeoutMs: 9 * 60_000 });
  assert.equal(wait.exitCode, 0, `joinagent status --wait exited ${wait.exitCode}:\n${wait.stdout}\n${wait.stderr}`);
  await assertHostPrepared(node());
  await assertRuntimeReady(node());
  await assertJoined(w!);
  // a converged node: a pass finds nothing
  const s = await passEndingAfter(node(), new Date().toISOString());
  assert.deepEqual(s.drift.recent, [], `no drift on a converged node: ${JSON.stringify(s.drift.recent)}`);
  assert.match((await node().exec(['systemctl', 'show', 'joinagent', '-p', 'StatusText'])).stdout, /checking for drift every 15s \(repair\)/);
}, node);

scenario('drift: swap on again (a swap file swapon\'ed and back in fstab) is turned off and commented out', async () => {
  // /proc/swaps is host-wide under nspawn: the swap is on only between the break and the
  // repair, and off in finally whatever happens
  try {
    await breakAndRepair({
      steps: ['swap'],
      prepare: () => node().sh(`rm -f ${SWAP} && fallocate -l 16M ${SWAP} && chmod 600 ${SWAP} && mkswap ${SWAP} >/dev/null`).then(() => {}),
      apply: () => node().sh(`swapon ${SWAP} && echo '${SWAP} none swap sw 0 0' >> /etc/fstab`).then(() => {}),
      broken: async () => assert.match(await read('/proc/swaps'), new RegExp(`^${SWAP}\\s`, 'm')),
      repaired: async () => {
        await assertHostPrepared(node(), { swapFile: SWAP });
        // and systemd has no active swap unit for it (none comes back at boot: fstab is commented)
        assert.equal((await node().exec(['systemctl', 'list-units', '--type', 'swap', '--state', 'active', '--plain', '--no-legend'])).stdout.trim(), '');
      },
      // the swap unit systemd tracks for /swapfile goes away with swapoff
      allowed: { files: ['/etc/fstab'], journal: [/swap|Swap/] },
    });
  } finally {
    await node().sh(`swapoff ${SWAP} 2>/dev/null; rm -f ${SWAP}`).catch(() => undefined);
  }
}, node);

scenario('drift: net.ipv4.ip_forward=0 set live is set back to 1', async () => {
  await breakAndRepair({
    steps: ['sysctl'],
    apply: () => node().exec(['sysctl', '-qw', 'net.ipv4.ip_forward=0']).then(() => {}),
    broken: async () => assert.equal((await read('/proc/sys/net/ipv4/ip_forward')).trim(), '0'),
    repaired: () => assertHostPrepared(node()),
    allowed: {},
  });
}, node);

scenario('drift: containerd\'s config edited (SystemdCgroup = false) is put back and containerd restarted', async () => {
  const file = '/etc/containerd/config.toml';
  const original = await read(file);
  await breakAndRepair({
    steps: ['containerd-config'],
    apply: () => node().exec(['sed', '-i', 's/SystemdCgroup = true/SystemdCgroup = false/', file]).then(() => {}),
    broken: async () => assert.match(await read(file), /SystemdCgroup = false/),
    repaired: async () => {
      assert.equal(await read(file), original, `${file} is as the agent wrote it`);
      await assertRuntimeReady(node());
    },
    // the one service that reads the file, restarted so it runs with what the file says
    allowed: { files: [file], units: ['containerd'] },
  });
}, node);

scenario('drift: kubelet stopped and disabled is enabled and started again', async () => {
  await breakAndRepair({
    steps: ['packages', 'join'],
    apply: () => node().exec(['systemctl', 'disable', '--now', 'kubelet']).then(() => {}),
    // inactive, or failed when the kubelet exits non-zero on SIGTERM: stopped either way
    broken: async () => assert.match((await node().exec(['systemctl', 'is-active', 'kubelet'], { allowFailure: true })).stdout.trim(), /^(inactive|failed)$/),
    repaired: async () => {
      assert.equal((await node().exec(['systemctl', 'is-enabled', 'kubelet'], { allowFailure: true })).stdout.trim(), 'enabled');
      await assertJoined(w!);
    },
    allowed: { units: ['kubelet'] },
  });
}, node);

scenario('drift: the kube-proxy image removed (crictl rmi) is pulled again', async () => {
  const ref = EXPECTED_IMAGES[0]!;
  await breakAndRepair({
    steps: ['images'],
    apply: () => rmiLikeCrictl(ref),
    broken: async () => assert.ok(!(await k8sImages(node())).includes(ref), `${ref} removed`),
    repaired: async () => assert.deepEqual(await k8sImages(node()), EXPECTED_IMAGES),
    allowed: {},
  });
}, node);

scenario('drift: the /etc/hosts block edited is only reported in report mode, then repaired in repair mode', async () => {
  const good = await read('/etc/hosts');
  const apiHost = w!.apiHost;
  const reloadedAt = await setMode('report');
  await passEndingAfter(node(), reloadedAt);
  const m0 = await metricsInNode(node());
  const d0 = (await statusInNode(node())).drift;
  const witness = await hostWitness(node());
  await node().exec(['sed', '-i', `s/^${apiHost.replaceAll('.', '\\.')}\\s\\+k8s-ctr$/198.51.100.7\\tk8s-ctr/`, '/etc/hosts']);
  const brokeAt = new Date().toISOString();
  const broken = await read('/etc/hosts');
  assert.match(broken, /^198\.51\.100\.7\tk8s-ctr$/m, `the managed block edited:\n${broken}`);

  const startsAt = await firstPassAfter(node(), brokeAt);
  const end = await passEndingAfter(node(), startsAt);
  const f = findingAfter(end.drift, 'hosts', brokeAt);
  assert.ok(f, `the first pass after the break found it: ${JSON.stringify(end.drift.recent)}`);
  assert.equal(f.repaired, false, 'report mode: not repaired');
  assert.ok(f.changes.some((c) => c.includes('/etc/hosts')), `/status names the file: ${f.changes.join('; ')}`);
  assert.deepEqual(end.drift.steps, ['hosts'], '/status drift.steps lists the unrepaired step');
  assert.equal(end.drift.repairs, d0.repairs, 'no repair counted');
  const m1 = await metricsInNode(node());
  assert.equal(driftCounters(m1, 'hosts').detected, driftCounters(m0, 'hosts').detected + 1, '/metrics drift detected');
  assert.equal(driftCounters(m1, 'hosts').repairs, driftCounters(m0, 'hosts').repairs, '/metrics: no repair');
  assert.equal(m1.get('joinagent_drifted_steps'), 1, '/metrics joinagent_drifted_steps');
  // a further pass reports it again and still changes nothing
  await passEndingAfter(node(), end.drift.lastCheck!);
  assert.equal(await read('/etc/hosts'), broken, 'report mode leaves /etc/hosts as it found it');
  await assertNoCollateral(node(), witness, { files: ['/etc/hosts'] });

  // back to repair: the pass the reload starts puts the block back
  const again = await setMode('repair');
  const repaired = await passEndingAfter(node(), again);
  const r = findingAfter(repaired.drift, 'hosts', again);
  assert.ok(r?.repaired, `repaired after the switch to repair mode: ${JSON.stringify(repaired.drift.recent)}`);
  assert.equal(await read('/etc/hosts'), good, '/etc/hosts is as the agent wrote it');
  assert.deepEqual(repaired.drift.steps, []);
  assert.equal(driftCounters(await metricsInNode(node()), 'hosts').repairs, driftCounters(m0, 'hosts').repairs + 1, '/metrics drift repairs');
  await assertNodeReadySince(w!, brokeAt);
}, node);

// What `crictl rmi REF` does: CRI RemoveImage deletes the image, i.e. every name containerd
// keeps for it (the tag, the repo digest and the image id), not just the one given. The test
// registry's kube-proxy and pause are the same tiny image, so pause goes too (and both come
// back): on a real node they are different images and only kube-proxy would.
async function rmiLikeCrictl(ref: string): Promise<void> {
  const ls = (await node().exec(['ctr', '-n', 'k8s.io', 'images', 'ls'])).stdout.split('\n').slice(1).map((l) => l.split(/\s+/)).filter((f) => f.length > 2);
  const target = ls.find((f) => f[0] === ref)?.[2];
  assert.ok(target, `${ref} is in containerd before the break`);
  const names = ls.filter((f) => f[2] === target).map((f) => f[0]!);
  await node().exec(['ctr', '-n', 'k8s.io', 'images', 'rm', '--sync', ...names]);
}
