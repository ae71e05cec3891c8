import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { parse } from 'yaml';
import { ensureBinary, waitForStatus } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// One node on a dual-stack link: the repository and registry answer on IPv4, the control
// plane on IPv6 ([fd6a:…::1]:6443), and the cluster is dual-stack with IPv4 primary. The
// same join carries the kubelet settings the kubelet-settings scenario checks.
const SLOT = 62;
const CONFIG = '/root/joinagent.yaml';
const NETWORKING = 'networking:\n  serviceSubnet: "10.96.0.0/12,fd00:10:96::/112"\n  podSubnet: "10.244.0.0/16,fd00:10:244::/56"\n';
// kubelet settings and an operator's own patch directory, carried by the same join
const KUBELET = 'kubelet:\n  cgroupDriver: systemd\n  maxPods: 42\n  systemReserved: { cpu: 250m, memory: 256Mi }\n  evictionHard: { memory.available: 100Mi, nodefs.available: 10% }\n';
const SITE_PATCHES = '/etc/joinagent/kubeadm-patches';
let firstRun = '';
let w: World | undefined;
let binary = '';

before(async () => {
  binary = await ensureBinary(log);
  w = await startWorld({ slot: SLOT, log, family: 'dual' });
});
after(cleanupAll);

const read = async (file: string): Promise<string> => (await w!.node.exec(['cat', file])).stdout;

scenario('dual-stack: API server over IPv6, IPv4-primary dual-stack cluster: one node IP per family, IPv4 first', async () => {
  const { node } = w!;
  const { node: node4, node6, host6 } = node.link;
  const config = w!.config.replace('nodeIP: auto\n', `nodeIP: auto\n${NETWORKING}${KUBELET}`).replace('nodeRegistration:\n', `patches:\n  directory: ${SITE_PATCHES}\nnodeRegistration:\n`);
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, config, 0o600);
  await node.writeFile(`${SITE_PATCHES}/kubeletconfiguration+json.yaml`, '- op: add\n  path: /serializeImagePulls\n  value: false\n');

  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  firstRun = r.stdout + r.stderr;

  for (const key of ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding', 'net/ipv6/conf/default/forwarding']) {
    assert.equal((await read(`/proc/sys/${key}`)).trim(), '1', `${key.replaceAll('/', '.')} is live`);
  }
  assert.match(await read('/var/lib/kubelet/kubeadm-flags.env'), new RegExp(`--node-ip=${node4},${node6}(\\s|")`), 'kubelet gets both addresses, IPv4 (the primary family) first');
  assert.match(await read('/etc/kubernetes/kubelet.conf'), new RegExp(`server: https://\\[${host6}\\]:6443`));

  const hostname = (await node.exec(['hostname'])).stdout.trim();
  const me = (await w!.cp!.nodes()).find((n) => n.name === hostname);
  assert.ok(me?.ready, `the control plane has Node ${hostname} Ready`);
  assert.deepEqual(me.internalIPs, [node4, node6], 'the Node registered one InternalIP per family');
  assert.equal(me.podCIDRs?.length, 2, `node-ipam gave the Node a podCIDR per family: ${me.podCIDRs?.join(',')}`);

  await node.exec(['systemd-run', '--unit=joinagent-adhoc', '/root/joinagent', 'run', '--config', CONFIG]);
  const s = await waitForStatus(node, 'ready', (x) => x.ready, 120_000);
  assert.equal(s.node.nodeIP, node4);
  assert.deepEqual(s.node.nodeIPs, [node4, node6]);
  assert.equal(s.steps.find((x) => x.id === 'node-ip')?.message, `${node4},${node6} (IPv4: IPv4 address of host0, the interface toward the API server; IPv6: source address of the route to ${host6} via host0)`);
  await node.exec(['systemctl', 'stop', 'joinagent-adhoc'], { allowFailure: true });
}, () => w?.node);

const stepEnds = (log: string): Record<string, string> => Object.fromEntries(log.split('\n').filter((l) => l.includes('"event":"step-end"')).map((l) => JSON.parse(l) as { step: string; state: string }).map((e) => [e.step, e.state]));

// The dual-stack join above carried kubelet: settings and an operator's patches
// directory: kubeadm (the stand-in applies patches as kubeadm v1.32 does) wrote them
// into kubelet's config, kubelet runs with them; a later edit is put back.
scenario('kubelet-settings: kubelet: and patches.directory reach /var/lib/kubelet/config.yaml through kubeadm; drift is put back', async () => {
  const { node } = w!;
  const ends = stepEnds(firstRun);
  assert.equal(ends['kubelet-config'], 'ok', 'after the join nothing was left to correct: kubeadm had applied the patches');
  assert.equal(ends['cgroup-driver'], 'ok');
  const kubeletConfig = parse(await read('/var/lib/kubelet/config.yaml')) as Record<string, unknown>;
  assert.equal(kubeletConfig.maxPods, 42);
  assert.deepEqual(kubeletConfig.systemReserved, { cpu: '250m', memory: '256Mi' });
  assert.deepEqual(kubeletConfig.evictionHard, { 'memory.available': '100Mi', 'nodefs.available': '10%' });
  assert.equal(kubeletConfig.serializeImagePulls, false, 'the operator\'s json patch reached it too');
  assert.equal(kubeletConfig.cgroupDriver, 'systemd');
  assert.match(await read('/var/lib/joinagent/kubeadm-join.yaml'), /\npatches:\n {2}directory: \/var\/lib\/joinagent\/patches\n/);
  assert.deepEqual((await node.exec(['ls', '/var/lib/joinagent/patches'])).stdout.trim().split('\n'), ['kubeletconfiguration+json.yaml', 'kubeletconfiguration-joinagent+merge.yaml']);
  const hostname = (await node.exec(['hostname'])).stdout.trim();
  assert.equal((await w!.cp!.nodes()).find((n) => n.name === hostname)?.podsCapacity, '42', 'kubelet runs with maxPods 42 (the Node\'s pod capacity)');
  assert.match((await node.exec(['containerd', 'config', 'dump'])).stdout, /SystemdCgroup = true/);

  // drift: someone edits kubelet's config; the next run puts the setting back and restarts kubelet
  await node.sh("sed -i 's/^maxPods: 42$/maxPods: 7/' /var/lib/kubelet/config.yaml");
  const before = (await node.exec(['systemctl', 'show', 'kubelet', '-p', 'ExecMainStartTimestampMonotonic'])).stdout.trim();
  const plan = await node.exec(['/root/joinagent', 'plan', '--config', CONFIG], { allowFailure: true });
  assert.match(plan.stdout, /kubelet maxPods: 7 -> 42/, `plan names the drifted setting:\n${plan.stdout}`);
  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once:\n${r.stdout}\n${r.stderr}`);
  assert.equal(stepEnds(r.stdout + r.stderr)['kubelet-config'], 'changed');
  assert.equal((parse(await read('/var/lib/kubelet/config.yaml')) as { maxPods: number }).maxPods, 42);
  assert.notEqual((await node.exec(['systemctl', 'show', 'kubelet', '-p', 'ExecMainStartTimestampMonotonic'])).stdout.trim(), before, 'kubelet restarted to read it');
  const again = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(stepEnds(again.stdout + again.stderr)['kubelet-config'], 'ok', 'then nothing to do');

  // a field set both in kubelet: and in a patch file is refused at validation, with its line
  await node.writeFile(`${SITE_PATCHES}/kubeletconfiguration-pods.yaml`, 'maxPods: 90\n');
  const v = await node.exec(['/root/joinagent', 'validate', '--config', CONFIG], { allowFailure: true });
  assert.equal(v.exitCode, 2);
  assert.match(v.stderr + v.stdout, new RegExp(`${CONFIG}:\\d+:\\d+: patches\\.directory: ${SITE_PATCHES}/kubeletconfiguration-pods\\.yaml sets maxPods, which kubelet\\.maxPods sets too`));
  await node.exec(['rm', `${SITE_PATCHES}/kubeletconfiguration-pods.yaml`]);
}, () => w?.node);
