import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before } from 'node:test';
import { diffHashes, ensureBinary, hashEtc, waitForStatus } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { FLANNEL_CONFLIST, FLANNEL_CONFLIST_PATH } from '../harness/cni.js';
import type { Node } from '../harness/node.js';
import { NM_HOST0, NM_HOST0_CONF, startRockyWorld, type RockyWorld } from '../harness/rocky-world.js';
import { log, scenario } from '../harness/scenario.js';
import { waitFor } from '../harness/sh.js';
import type { ControlPlane as Fixture } from '../../fixtures/controlplane.js';

// Why NotReady (issue 16) on the runbook's platform: a Rocky-like node where NetworkManager
// and firewalld really run. The Node is held NotReady by the control plane (as before the
// CNI works: cniReady false) while the host has the causes joinagent can see and fix:
// NetworkManager managing the CNI's interfaces, then the overlay port closed in firewalld,
// for flannel (8472/udp) and then Calico (4789/udp). Each is named by diagnose, /status and
// the node-ready step, shown by plan, fixed by run, and left alone by a second run.
const SLOT = 71;
const CONFIG = '/root/joinagent.yaml';
const NM_CNI_CONF = '/etc/NetworkManager/conf.d/joinagent-cni.conf';
const CALICO_CONFLIST_PATH = '/etc/cni/net.d/10-calico.conflist';
let w: RockyWorld | undefined;
let fx: Fixture;

before(async () => {
  const binary = await ensureBinary(log);
  w = await startRockyWorld({ slot: SLOT, log, firewall: 'open-ports', networkManager: true });
  fx = w.cp!.fixture as unknown as Fixture;
  await w.node.copyIn(binary, '/root/joinagent', 0o755);
  await useConfig('open-ports');
  // flannel's install-cni copies its plugin next to the config (harness/cni.ts writes the
  // config); nothing execs it: no pod gets a network in a test node
  await cniPlugin('flannel');
});
after(cleanupAll);

// the world's config with this firewall mode; a shorter join.waitForReady: the Node stays
// NotReady here on purpose, and a run's node-ready step gives up after it (long enough
// for a fresh join, whose Node turns Ready once containerd has loaded the CNI config)
async function useConfig(firewall: 'open-ports' | 'leave'): Promise<void> {
  const text = w!.config.replace(/^ {2}firewall: \S+$/m, `  firewall: ${firewall}`).replace(/^status: .*$/m, (l) => `${l}\njoin: { waitForReady: 30s }`);
  assert.match(text, new RegExp(`^ {2}firewall: ${firewall}$`, 'm'));
  await w!.node.writeFile(CONFIG, text, 0o600);
}

async function cniPlugin(name: string): Promise<void> {
  await w!.node.writeFile(`/opt/cni/bin/${name}`, `#!/bin/sh\n# ${name}'s CNI plugin, as its install-cni copies it (e2e: no pod networking in a test node)\necho '{"cniVersion":"0.3.1","code":100,"msg":"e2e stand-in"}'\nexit 1\n`, 0o755);
}

const agent = (args: string[], timeoutMs = 8 * 60_000) => w!.node.exec(['/root/joinagent', ...args, '--config', CONFIG], { allowFailure: true, timeoutMs });
const run = (...extra: string[]) => agent(['run', '--once', '--log-format', 'json', ...extra]);
const diagnose = async (): Promise<string> => {
  const d = await agent(['diagnose'], 180_000);
  assert.equal(d.exitCode, 1, `diagnose fails while the Node is NotReady:\n${d.stdout}${d.stderr}`);
  return d.stdout;
};
// diagnose's node-ready line (its hint in the same line)
const nodeReadyLines = (out: string): string => /^FAIL +node-ready .*$/m.exec(out)?.[0] ?? `(no failing node-ready line in:\n${out})`;
// the agent's JSON log lines, messages unescaped
const logText = (r: { stdout: string; stderr: string }): string => `${r.stdout}\n${r.stderr}`.split('\n').map((l) => (l.startsWith('{') ? Object.values(JSON.parse(l) as Record<string, unknown>).filter((v) => typeof v === 'string').join(' ') : l)).join('\n');
const stepStates = (r: { stdout: string; stderr: string }): string[] => `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string; step?: string; state?: string }).filter((e) => e.event === 'step-end' && e.state !== 'ok' && e.state !== 'skipped').map((e) => `${e.step}=${e.state}`);
const exists = async (node: Node, p: string): Promise<boolean> => (await node.exec(['test', '-e', p], { allowFailure: true })).exitCode === 0;
const ports = async (node: Node, permanent = false): Promise<string[]> => (await node.exec(['firewall-cmd', ...(permanent ? ['--permanent'] : []), '--list-ports'])).stdout.trim().split(/\s+/).filter(Boolean).sort();

// NetworkManager's view of each device (nmcli -t: "cni0:connected (externally)")
async function nmStates(node: Node): Promise<Map<string, string>> {
  const r = await node.exec(['nmcli', '-t', '-f', 'DEVICE,STATE', 'device']);
  return new Map(r.stdout.trim().split('\n').map((l) => l.split(':') as [string, string]));
}

async function waitNm(node: Node, what: string, pred: (s: Map<string, string>) => boolean): Promise<Map<string, string>> {
  return waitFor(`NetworkManager: ${what}`, async () => {
    const s = await nmStates(node);
    if (pred(s)) return s;
    throw new Error(`nmcli says ${[...s].map(([d, st]) => `${d}=${st}`).join(', ')}`);
  }, 30_000, 500);
}

// /status of a daemon run (a transient unit, so the run --once calls around it keep the
// agent's lock to themselves) until published.notReady names the cause
async function statusNames(cause: string, extra: string[] = []): Promise<{ cause: string; message: string; hint: string }> {
  const { node } = w!;
  await node.exec(['systemd-run', '--unit=joinagent-adhoc', '--collect', '/root/joinagent', 'run', '--config', CONFIG, ...extra]);
  try {
    const s = await waitForStatus(node, `published.notReady names ${cause}`, (d) => ((d.published.notReady ?? []) as { cause: string }[]).some((f) => f.cause === cause), 5 * 60_000);
    return (s.published.notReady as { cause: string; message: string; hint: string }[]).find((f) => f.cause === cause)!;
  } finally {
    await node.exec(['systemctl', 'stop', 'joinagent-adhoc'], { allowFailure: true });
  }
}

scenario('notready: NetworkManager manages the CNI\'s interfaces (Rocky node, NetworkManager running): diagnose and /status name it; plan shows joinagent-cni.conf and the reload; run writes it, NetworkManager reloads and leaves cni0 and flannel.1 unmanaged; the operator\'s own conf.d file still holds; a second run changes nothing', async () => {
  const { node } = w!;
  assert.equal((await node.exec(['systemctl', 'is-active', 'NetworkManager'], { allowFailure: true })).stdout.trim(), 'active', 'NetworkManager runs, as on a Rocky install');
  // joined before joinagent looked after NetworkManager's side (the step left out, as an
  // agent without it would have)
  const join = await run('--skip', 'networkmanager-cni');
  assert.equal(join.exitCode, 0, logText(join));
  assert.equal(await exists(node, NM_CNI_CONF), false);

  // flannel's interfaces as flanneld (flannel.1, VXLAN) and the bridge plugin (cni0) make them
  await node.sh('ip link add cni0 type bridge && ip addr add 10.244.1.1/24 dev cni0 && ip link set cni0 up && ip link add flannel.1 type vxlan id 1 dev host0 dstport 8472 nolearning && ip addr add 10.244.1.0/32 dev flannel.1 && ip link set flannel.1 up');
  const managed = await waitNm(node, 'cni0 and flannel.1 taken over', (s) => ['cni0', 'flannel.1'].every((d) => s.has(d) && s.get(d) !== 'unmanaged'));
  assert.equal(managed.get('host0'), 'unmanaged', 'the harness\'s link is kept from NetworkManager by its own conf.d file');

  fx.options.cniReady = false;
  try {
    const d = nodeReadyLines(await diagnose());
    assert.match(d, /^FAIL +node-ready +Node "[^"]+" is not Ready: .*NetworkManager runs and manages every interface, the CNI's \(cni0, flannel\.1, cali\*\) included/, d);
    assert.match(d, /writes \/etc\/NetworkManager\/conf\.d\/joinagent-cni\.conf \(unmanaged-devices for the CNI's interfaces\) and reloads NetworkManager/, d);
    assert.doesNotMatch(d, /overlay network/, `8472/udp is open (host.firewall: open-ports at the join): ${d}`);

    const found = await statusNames('networkmanager', ['--skip', 'networkmanager-cni']);
    assert.match(found.message, /NetworkManager runs and manages every interface/);
    assert.match(found.hint, /joinagent-cni\.conf/);

    const plan = await agent(['plan']);
    assert.match(plan.stdout, /^networkmanager-cni +would change/m, plan.stdout);
    assert.match(plan.stdout, /^ +\+unmanaged-devices\+=interface-name:cni0;interface-name:flannel\*;.*interface-name:veth\*$/m, plan.stdout);
    assert.match(plan.stdout, /^ +\* run: systemctl reload NetworkManager$/m, plan.stdout);
    assert.equal(await exists(node, NM_CNI_CONF), false, 'plan wrote nothing');

    const r = await run();
    assert.equal(r.exitCode, 1, `the Node is still NotReady (the control plane says so):\n${logText(r)}`);
    assert.ok(stepStates(r).includes('networkmanager-cni=changed'), stepStates(r).join(' '));
    assert.doesNotMatch(logText(r), /NetworkManager runs and manages/, 'the node-ready step no longer names NetworkManager');
    assert.match((await node.exec(['cat', NM_CNI_CONF])).stdout, /^\[keyfile\]\nunmanaged-devices\+=interface-name:cni0;/m);
    // the reload took: NetworkManager lets go of the CNI's interfaces, and host0 stays its
    // operator's (joinagent's file appends to the list instead of replacing it)
    const after = await waitNm(node, 'cni0 and flannel.1 unmanaged', (s) => s.get('cni0') === 'unmanaged' && s.get('flannel.1') === 'unmanaged');
    assert.equal(after.get('host0'), 'unmanaged', 'the operator\'s unmanaged-devices still holds');
    assert.equal((await node.exec(['sha256sum', NM_HOST0_CONF])).stdout.split(' ')[0], createHash('sha256').update(NM_HOST0).digest('hex'), 'the operator\'s file is byte for byte as it was');
    assert.match((await node.exec(['NetworkManager', '--print-config'])).stdout, /^unmanaged-devices=interface-name:host0,interface-name:cni0,/m, 'NetworkManager merges both (its --print-config joins lists with commas)');
    assert.equal((await node.exec(['ip', '-4', '-o', 'addr', 'show', 'cni0'])).stdout.includes('10.244.1.1/24'), true, 'cni0 keeps its address');
    assert.doesNotMatch(nodeReadyLines(await diagnose()), /NetworkManager/, 'diagnose no longer names it');
  } finally {
    fx.options.cniReady = true;
  }
  const ready = await run();
  assert.equal(ready.exitCode, 0, logText(ready));
  const etc = await hashEtc(node);
  const again = await run();
  assert.equal(again.exitCode, 0, logText(again));
  assert.deepEqual(stepStates(again), [], 'every step ok');
  assert.deepEqual(diffHashes(etc, await hashEtc(node)), [], 'every file under /etc hashes the same');
}, () => w?.node);

scenario('notready: the overlay port blocked by firewalld (flannel VXLAN 8472/udp, closed by the operator; host.firewall: leave): diagnose, /status and the node-ready step name it with firewalld and the fix; with open-ports, plan shows it, run opens it (runtime and permanent), a second run changes nothing', async () => {
  const { node } = w!;
  await node.sh('firewall-cmd -q --permanent --remove-port=8472/udp && firewall-cmd -q --reload');
  assert.ok(!(await ports(node)).includes('8472/udp'));
  await useConfig('leave');
  fx.options.cniReady = false;
  try {
    const d = nodeReadyLines(await diagnose());
    assert.match(d, /^FAIL +node-ready +Node "[^"]+" is not Ready: firewalld does not let the overlay network's 8472\/udp in: pods on other nodes cannot reach this one/, d);
    assert.match(d, /host\.firewall: open-ports opens it .*`firewall-cmd --permanent --add-port=8472\/udp && firewall-cmd --reload`/, d);

    const found = await statusNames('overlay-port');
    assert.match(found.message, /firewalld does not let the overlay network's 8472\/udp in/);
    assert.match(found.hint, /firewall-cmd --permanent --add-port=8472\/udp/);

    // host.firewall: leave: the run says why the Node is NotReady and what to do
    const left = await run();
    assert.equal(left.exitCode, 1, logText(left));
    assert.match(logText(left), /joined, waiting for Ready: .*; likely cause: firewalld does not let the overlay network's 8472\/udp in/, logText(left));
    assert.match(logText(left), /host\.firewall: open-ports opens it/);
    assert.ok(!(await ports(node)).includes('8472/udp'), 'leave leaves firewalld alone');

    await useConfig('open-ports');
    const plan = await agent(['plan']);
    assert.match(plan.stdout, /^firewall +would change/m, plan.stdout);
    assert.match(plan.stdout, /^ +\* run: firewall-cmd --permanent --add-port=8472\/udp$/m, plan.stdout);
    assert.match(plan.stdout, /^ +\* run: firewall-cmd --reload$/m, plan.stdout);
    assert.ok(!(await ports(node, true)).includes('8472/udp'), 'plan changed nothing');

    const r = await run();
    assert.equal(r.exitCode, 1, `still NotReady (the control plane says so):\n${logText(r)}`);
    assert.deepEqual(stepStates(r).filter((s) => s.startsWith('firewall')), ['firewall=changed']);
    assert.doesNotMatch(logText(r), /overlay network/, 'the node-ready step no longer names the port');
    assert.ok((await ports(node)).includes('8472/udp'), 'open now');
    assert.ok((await ports(node, true)).includes('8472/udp'), 'and after a reload or reboot');
    assert.doesNotMatch(nodeReadyLines(await diagnose()), /8472|overlay/, 'diagnose no longer names it');
  } finally {
    fx.options.cniReady = true;
  }
  const ready = await run();
  assert.equal(ready.exitCode, 0, logText(ready));
  const before = { etc: await hashEtc(node), runtime: await ports(node), permanent: await ports(node, true) };
  const again = await run();
  assert.deepEqual(stepStates(again), [], 'a second run changes nothing');
  assert.deepEqual(diffHashes(before.etc, await hashEtc(node)), []);
  assert.deepEqual({ runtime: await ports(node), permanent: await ports(node, true) }, { runtime: before.runtime, permanent: before.permanent }, 'no port added twice or removed');
}, () => w?.node);

scenario('notready: the overlay port follows the CNI config on the node: Calico VXLAN\'s 4789/udp is named by diagnose, shown by plan and opened by open-ports', async () => {
  const { node } = w!;
  // the cluster's network add-on is Calico: its install-cni writes 10-calico.conflist
  node.stopCni?.();
  await node.exec(['rm', '-f', FLANNEL_CONFLIST_PATH]);
  await node.writeFile(CALICO_CONFLIST_PATH, CALICO_CONFLIST);
  await cniPlugin('calico');
  await cniPlugin('calico-ipam');
  await useConfig('open-ports');
  fx.options.cniReady = false;
  try {
    const d = nodeReadyLines(await diagnose());
    assert.match(d, /firewalld does not let the overlay network's 4789\/udp in/, d);
    assert.match(d, /firewall-cmd --permanent --add-port=4789\/udp/, d);
    const plan = await agent(['plan']);
    assert.match(plan.stdout, /^ +\* run: firewall-cmd --permanent --add-port=4789\/udp$/m, plan.stdout);
    const r = await run();
    assert.deepEqual(stepStates(r).filter((s) => s.startsWith('firewall')), ['firewall=changed'], logText(r));
    assert.ok((await ports(node)).includes('4789/udp'));
    assert.ok((await ports(node, true)).includes('4789/udp'));
    assert.doesNotMatch(nodeReadyLines(await diagnose()), /4789|overlay/);
  } finally {
    fx.options.cniReady = true;
  }
  const ready = await run();
  assert.equal(ready.exitCode, 0, logText(ready));
  const again = await run();
  assert.deepEqual(stepStates(again), [], 'a second run changes nothing');
  await node.exec(['rm', '-f', CALICO_CONFLIST_PATH]);
  await node.writeFile(FLANNEL_CONFLIST_PATH, FLANNEL_CONFLIST);
}, () => w?.node);

// calico.yaml's cni_network_config as its install-cni writes it
const CALICO_CONFLIST = `{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "calico",
      "log_level": "info",
      "log_file_path": "/var/log/calico/cni/cni.log",
      "datastore_type": "kubernetes",
      "mtu": 0,
      "ipam": { "type": "calico-ipam" },
      "policy": { "type": "k8s" },
      "kubernetes": { "kubeconfig": "/etc/cni/net.d/calico-kubeconfig" }
    },
    { "type": "portmap", "snat": true, "capabilities": { "portMappings": true } },
    { "type": "bandwidth", "capabilities": { "bandwidth": true } }
  ]
}
`;
