import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary, waitForStatus } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// One node on an IPv6-only link (fd6a:6f69:6e00:<slot>::/64, no IPv4 at all): the
// package repository, the registry mirror and the control plane answer on the link's
// IPv6 address only. The same node then serves the file-discovery scenario.
const SLOT = 61;
const CONFIG = '/root/joinagent.yaml';
let w: World | undefined;
let binary = '';

before(async () => {
  binary = await ensureBinary(log);
  w = await startWorld({ slot: SLOT, log, family: 'ipv6' });
});
after(cleanupAll);

const read = async (file: string): Promise<string> => (await w!.node.exec(['cat', file])).stdout;

scenario('ipv6: an IPv6-only node joins [fd6a:…::1]:6443 (discovery, node IP, IPv6 forwarding)', async () => {
  const { node } = w!;
  const { host6, node6 } = node.link;
  assert.equal((await node.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', 'host0'])).stdout.trim(), '', 'the node has no IPv4 address on its link');
  assert.match(w!.config, new RegExp(`apiServerEndpoint: "\\[${host6}\\]:6443"`));
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, w!.config, 0o600);

  const d = await node.exec(['/root/joinagent', 'discover', '--config', CONFIG], { allowFailure: true });
  assert.equal(d.exitCode, 0, `discover over IPv6:\n${d.stdout}\n${d.stderr}`);
  assert.match(d.stdout, new RegExp(`TCP connect to \\[${host6}\\]:6443 in \\d+ ms`), d.stdout);
  assert.match(d.stdout, new RegExp(`discovery ok: API server v1\\.32\\.11 at \\[${host6}\\]:6443`), d.stdout);

  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);

  for (const key of ['net/ipv6/conf/all/forwarding', 'net/ipv6/conf/default/forwarding', 'net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-ip6tables']) {
    assert.equal((await read(`/proc/sys/${key}`)).trim(), '1', `${key.replaceAll('/', '.')} is live`);
  }
  assert.match(await read('/etc/sysctl.d/k8s.conf'), /^net\.ipv6\.conf\.all\.forwarding = 1$/m, 'and set for the next boot');
  const rendered = await read('/var/lib/joinagent/kubeadm-join.yaml');
  assert.match(rendered, new RegExp(`apiServerEndpoint: "?\\[${host6}\\]:6443"?`), rendered);
  assert.match(rendered, new RegExp(`name: node-ip\\n\\s+value: ${node6}(\\n|$)`), rendered);
  assert.match(await read('/var/lib/kubelet/kubeadm-flags.env'), new RegExp(`--node-ip=${node6}(\\s|")`));
  assert.match(await read('/etc/kubernetes/kubelet.conf'), new RegExp(`server: https://\\[${host6}\\]:6443`), 'kubelet talks to the API server over IPv6');
  assert.match(await read('/etc/apt/sources.list.d/kubernetes.list'), new RegExp(`http://\\[${host6}\\]:8080/debian/`), 'packages came over IPv6');

  const hostname = (await node.exec(['hostname'])).stdout.trim();
  const me = (await w!.cp!.nodes()).find((n) => n.name === hostname);
  assert.ok(me?.ready, `the control plane has Node ${hostname} Ready`);
  assert.deepEqual(me.internalIPs, [node6], 'the Node registered its IPv6 address');

  await node.exec(['systemd-run', '--unit=joinagent-adhoc', '/root/joinagent', 'run', '--config', CONFIG]);
  const st = await waitForStatus(node, 'ready', (x) => x.ready, 120_000);
  assert.equal(st.node.nodeIP, node6);
  assert.deepEqual(st.node.nodeIPs, [node6]);
  assert.match(st.steps.find((x) => x.id === 'node-ip')?.message ?? '', new RegExp(`^${node6} \\(source address of the route to ${host6} via host0\\)`));
  await node.exec(['systemctl', 'stop', 'joinagent-adhoc'], { allowFailure: true });
}, () => w?.node);
