import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startAptRepo, KUBE_DEB_VERSION, type AptRepo } from './harness/aptrepo.js';
import { cleanupAll } from './harness/cleanup.js';
import { DISTRO_KEY_IN_NODE, distroSources } from './harness/distro-repo.js';
import { Node } from './harness/node.js';
import { startRegistry, type Registry } from './harness/registry.js';

// The harness on its own, before any joinagent feature: a node boots on its private
// link, reaches the host-side services and nothing else, installs from the signed test
// repository and pulls through the test registry with its own containerd.
const SLOT = 10;
let node: Node;
let repo: AptRepo;
let registry: Registry;

before(async () => {
  node = await Node.create({ slot: SLOT, log: (m) => console.log(`# ${m}`) });
  repo = await startAptRepo(node.link.host);
  registry = await startRegistry(node.link.host);
});
after(cleanupAll);
after(async () => {
  await registry?.close();
  await repo?.close();
});

test('the node booted systemd on its own link and has no route beyond it', async () => {
  assert.match((await node.exec(['systemctl', 'is-system-running'], { allowFailure: true })).stdout, /running|degraded/);
  assert.equal((await node.exec(['hostname'])).stdout.trim(), `worker-${SLOT}`);
  assert.match((await node.exec(['ip', '-4', '-o', 'addr', 'show', node.link.nodeIf])).stdout, new RegExp(`${node.link.node}/30`));
  const outside = await node.exec(['ip', 'route', 'get', '192.0.2.2'], { allowFailure: true });
  assert.notEqual(outside.exitCode, 0, 'the node must not have a route off its test link');
  assert.match(outside.stderr, /unreachable/i);
});

test('apt installs containerd and the pinned kubelet from the signed test repository', async () => {
  await node.copyIn(repo.keyFile, '/etc/apt/keyrings/e2e.asc');
  await node.writeFile('/etc/apt/sources.list.d/e2e.list', `deb [signed-by=/etc/apt/keyrings/e2e.asc] ${repo.url} /\n`);
  // kubelet's iptables comes from the distribution's mirror
  await node.copyIn(repo.distro!.keyFile, DISTRO_KEY_IN_NODE);
  await node.writeFile('/etc/apt/sources.list.d/debian.sources', distroSources(repo.distro!.url));
  await node.exec(['apt-get', 'update']);
  assert.ok(repo.requests.includes('/debian/InRelease'), 'apt fetched the signed InRelease');
  await node.exec(['apt-get', 'install', '-y', '--no-install-recommends', 'containerd', `kubelet=${KUBE_DEB_VERSION}`], { env: { DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 300_000 });
  const v = await node.exec(['dpkg-query', '-W', '-f', '${Version}', 'kubelet']);
  assert.equal(v.stdout, KUBE_DEB_VERSION);
  // upstream's dependencies came along: the real iptables from the mirror, the real CNI plugins
  assert.match((await node.exec(['iptables', '--version'])).stdout, /^iptables v1\.8/);
  assert.match((await node.exec(['/opt/cni/bin/bridge', '--version'], { allowFailure: true })).stdout + (await node.exec(['/opt/cni/bin/bridge', '--version'], { allowFailure: true })).stderr, /CNI bridge plugin/);
  assert.match((await node.exec(['systemctl', 'is-active', 'containerd'], { allowFailure: true })).stdout, /active/);
});

test('a tampered repository is refused by apt (the signature is really checked)', async () => {
  const { promises: fs } = await import('node:fs');
  const inRelease = `${repo.dir}/InRelease`;
  const good = await fs.readFile(inRelease, 'utf8');
  await fs.writeFile(inRelease, good.replace('Label: joinagent-e2e', 'Label: tampered'));
  try {
    const r = await node.exec(['apt-get', 'update'], { allowFailure: true });
    assert.match(r.stdout + r.stderr, /BADSIG|not valid|NO_PUBKEY|invalid/i);
  } finally {
    await fs.writeFile(inRelease, good);
  }
});

test("the node's containerd pulls the worker images from the test registry", async () => {
  for (const ref of [`${registry.address}/pause:3.10`, `${registry.address}/kube-proxy:v1.32.11`]) {
    await node.exec(['ctr', '-n', 'k8s.io', 'images', 'pull', '--plain-http', ref], { timeoutMs: 120_000 });
  }
  const list = (await node.exec(['ctr', '-n', 'k8s.io', 'images', 'ls', '-q'])).stdout;
  assert.match(list, /pause:3\.10/);
  assert.match(list, /kube-proxy:v1\.32\.11/);
});

test('`systemctl reboot` reboots the node: fresh network state, persisted sysctls applied, services still reachable', async () => {
  await node.writeFile('/etc/sysctl.d/90-e2e.conf', 'net.ipv4.ip_forward = 1\n');
  await node.exec(['sysctl', '-w', 'net.ipv4.conf.lo.accept_local=1']);
  const pid = node.pid1;
  await node.reboot();
  assert.notEqual(node.pid1, pid);
  assert.equal((await node.exec(['cat', '/proc/sys/net/ipv4/conf/lo/accept_local'])).stdout.trim(), '0', 'a value set only at runtime is gone');
  assert.equal((await node.exec(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim(), '1', 'sysctl.d applied at boot');
  assert.equal((await node.exec(['systemctl', 'is-active', 'containerd'], { allowFailure: true })).stdout.trim(), 'active');
  await node.exec(['curl', '-sf', '--max-time', '5', '-o', '/dev/null', `${repo.url}InRelease`]);
});
