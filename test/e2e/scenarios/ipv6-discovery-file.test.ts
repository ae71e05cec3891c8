import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { rmSync } from 'node:fs';
import { ensureBinary, statusInNode, waitForStatus } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';
import { makePki } from '../../fixtures/pki.js';

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

// The same machine, reset (`joinagent reset --yes`), joins again under another name with
// kubeadm's file discovery: the kubeconfig is the cluster-info ConfigMap's own (what
// kubeadm's docs suggest), the bootstrap token comes from join.tokenFile.
scenario('discovery-file: joins with discovery.file.kubeConfigPath and a token file; a kubeconfig of another cluster is refused', async () => {
  const { node } = w!;
  const { host6 } = node.link;
  const reset = await node.exec(['/root/joinagent', 'reset', '--yes', '--config', CONFIG], { allowFailure: true, timeoutMs: 120_000 });
  assert.equal(reset.exitCode, 0, `reset:\n${reset.stdout}\n${reset.stderr}`);
  assert.equal((await node.exec(['test', '-e', '/etc/kubernetes/kubelet.conf'], { allowFailure: true })).exitCode, 1, 'the node left the cluster');

  // kubectl -n kube-public get cm cluster-info -o jsonpath={.data.kubeconfig}, in effect
  const ci = await node.exec(['curl', '-sk', '--max-time', '5', `https://[${host6}]:6443/api/v1/namespaces/kube-public/configmaps/cluster-info`]);
  const kubeconfig = (JSON.parse(ci.stdout) as { data: { kubeconfig: string } }).data.kubeconfig;
  await node.writeFile('/etc/joinagent/discovery.conf', kubeconfig, 0o644);
  await node.writeFile('/etc/joinagent/token', `${w!.token}\n`, 0o600);
  const fileConfig = w!.config
    .replace(/discovery:\n {2}bootstrapToken:\n( {4}.*\n)+/, 'discovery:\n  file:\n    kubeConfigPath: /etc/joinagent/discovery.conf\n')
    .replace('status: {', 'join:\n  tokenFile: /etc/joinagent/token\nstatus: {')
    .replace('nodeRegistration:\n', 'nodeRegistration:\n  name: worker-61-file\n');
  assert.doesNotMatch(fileConfig, /bootstrapToken|caCertHashes/);
  await node.writeFile('/root/file.yaml', fileConfig, 0o600);

  // the sabotage first: the same file with another cluster's CA
  const other = makePki('another-cluster');
  try {
    await node.writeFile('/etc/joinagent/other.conf', kubeconfig.replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${Buffer.from(other.caPem).toString('base64')}`), 0o644);
  } finally {
    rmSync(other.dir, { recursive: true, force: true });
  }
  await node.writeFile('/root/other.yaml', fileConfig.replace('/etc/joinagent/discovery.conf', '/etc/joinagent/other.conf'), 0o600);
  const bad = await node.exec(['/root/joinagent', 'discover', '--config', '/root/other.yaml'], { allowFailure: true });
  assert.equal(bad.exitCode, 1, bad.stdout);
  assert.match(bad.stdout, /^FAIL {2}tls +TLS with \[fd6a:.*\]:6443 failed: .*not signed by the CA in \/etc\/joinagent\/other\.conf/m);

  const d = await node.exec(['/root/joinagent', 'discover', '--config', '/root/file.yaml'], { allowFailure: true });
  assert.equal(d.exitCode, 0, `discover:\n${d.stdout}\n${d.stderr}`);
  for (const check of ['file', 'auth', 'tcp', 'tls', 'healthz', 'version', 'clock', 'cluster-info', 'token']) assert.match(d.stdout, new RegExp(`^PASS  ${check} `, 'm'), d.stdout);
  assert.match(d.stdout, /^PASS {2}tls +TLS handshake with \[fd6a:.*\]:6443 \(server certificate verified\)$/m);
  assert.match(d.stdout, new RegExp(`discovery ok: API server v1\\.32\\.11 at \\[${host6}\\]:6443 \\(file /etc/joinagent/discovery\\.conf\\), token "${w!.token.split('.')[0]}" valid, CA sha256:[0-9a-f]{64} from the discovery file`));

  const plan = await node.exec(['/root/joinagent', 'plan', '--config', '/root/file.yaml'], { allowFailure: true });
  assert.match(plan.stdout, /kubeConfigPath: \/etc\/joinagent\/discovery\.conf/, `plan shows the JoinConfiguration kubeadm gets:\n${plan.stdout}`);
  assert.match(plan.stdout, /tlsBootstrapToken: <redacted>/, plan.stdout);
  assert.ok(!plan.stdout.includes(w!.token.split('.')[1]), 'plan never shows the token secret');

  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', '/root/file.yaml'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  const rendered = await read('/var/lib/joinagent/kubeadm-join.yaml');
  assert.match(rendered, /discovery:\n {2}file:\n {4}kubeConfigPath: \/etc\/joinagent\/discovery\.conf\n/, rendered);
  assert.doesNotMatch(rendered, /[tT]oken:/, 'the token left the rendered config after the join');
  assert.equal((await node.exec(['test', '-e', '/etc/joinagent/token'], { allowFailure: true })).exitCode, 1, 'join.tokenFile removed after the join');
  assert.match(await read('/etc/kubernetes/kubelet.conf'), new RegExp(`server: https://\\[${host6}\\]:6443`));
  const me = (await w!.cp!.nodes()).find((n) => n.name === 'worker-61-file');
  assert.ok(me?.ready, 'the control plane has the Node worker-61-file Ready');
  const st = await statusInNode(node).catch(() => undefined);
  assert.equal(st, undefined, 'no agent left running from the first scenario');
  const published = JSON.parse(await read('/var/lib/joinagent/state.json')) as { published: { discovery?: { method?: string; apiServer?: string } } };
  assert.deepEqual([published.published.discovery?.method, published.published.discovery?.apiServer], ['file /etc/joinagent/discovery.conf', `[${host6}]:6443`]);
}, () => w?.node);
