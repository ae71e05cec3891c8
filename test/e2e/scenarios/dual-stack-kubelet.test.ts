import assert from 'node:assert/strict';
import { after, before } from 'node:test';
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
  const config = w!.config.replace('nodeIP: auto\n', `nodeIP: auto\n${NETWORKING}`);
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, config, 0o600);

  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);

  for (const key of ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding', 'net/ipv6/conf/default/forwarding']) {
    assert.equal((await read(`/proc/sys/${key}`)).trim(), '1', `${key.replaceAll('/', '.')} is live`);
  }
  assert.match(await read('/var/lib/kubelet/kubeadm-flags.env'), new RegExp(`--node-ip=${node4},${node6}(\\s|")`), 'kubelet gets both addresses, IPv4 (the primary family) first');
  assert.match(await read('/etc/kubernetes/kubelet.conf'), new RegExp(`server: https://\\[${host6}\\]:6443`));

  const hostname = (await node.exec(['hostname'])).stdout.trim();
  const me = (await w!.cp!.nodes()).find((n) => n.name === hostname);
  assert.ok(me?.ready, `the control plane has Node ${hostname} Ready`);
  assert.deepEqual(me.internalIPs, [node4, node6], 'the Node registered one InternalIP per family');

  await node.exec(['systemd-run', '--unit=joinagent-adhoc', '/root/joinagent', 'run', '--config', CONFIG]);
  const s = await waitForStatus(node, 'ready', (x) => x.ready, 120_000);
  assert.equal(s.node.nodeIP, node4);
  assert.deepEqual(s.node.nodeIPs, [node4, node6]);
  assert.equal(s.steps.find((x) => x.id === 'node-ip')?.message, `${node4},${node6} (IPv4: IPv4 address of host0, the interface toward the API server; IPv6: source address of the route to ${host6} via host0)`);
  await node.exec(['systemctl', 'stop', 'joinagent-adhoc'], { allowFailure: true });
}, () => w?.node);
