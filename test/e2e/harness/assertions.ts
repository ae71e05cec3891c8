import assert from 'node:assert/strict';
import type { StatusDocument } from '../../../src/status/model.js';
import { KUBE_DEB_VERSION } from './aptrepo.js';
import { k8sImages } from './agent.js';
import type { Node } from './node.js';
import type { World } from './world.js';

export const EXPECTED_IMAGES = ['registry.k8s.io/kube-proxy:v1.32.11', 'registry.k8s.io/pause:3.10'];

const read = async (node: Node, file: string): Promise<string> => (await node.exec(['cat', file])).stdout;

// Host preparation as the runbook defines "done": live sysctls, no swap (fstab line
// commented, not deleted), one managed hosts entry, kube packages pinned and held.
export async function assertHostPrepared(node: Node, opts: { swapFile?: string } = {}): Promise<void> {
  for (const key of ['net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables']) {
    assert.equal((await read(node, `/proc/sys/${key}`)).trim(), '1', `sysctl ${key.replaceAll('/', '.')} is live`);
  }
  assert.match(await read(node, '/etc/sysctl.d/k8s.conf'), /net\.ipv4\.ip_forward\s*=\s*1/);
  if (opts.swapFile) {
    assert.doesNotMatch(await read(node, '/proc/swaps'), new RegExp(opts.swapFile), 'swap file no longer active');
    const fstab = await read(node, '/etc/fstab');
    assert.match(fstab, new RegExp(`^#.*${opts.swapFile}\\s+none\\s+swap`, 'm'), 'fstab swap line commented out');
    assert.doesNotMatch(fstab, new RegExp(`^${opts.swapFile}`, 'm'), 'no active fstab swap line left');
  }
  const hosts = await read(node, '/etc/hosts');
  assert.equal(hosts.match(new RegExp(`^${node.link.host.replaceAll('.', '\\.')}\\s+k8s-ctr\\b`, 'gm'))?.length, 1, `one k8s-ctr entry in /etc/hosts:\n${hosts}`);
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) {
    assert.equal((await node.exec(['dpkg-query', '-W', '-f', '${Version}', p])).stdout, KUBE_DEB_VERSION, `${p} at exactly ${KUBE_DEB_VERSION} (the repo also has a newer patch)`);
  }
  const held = (await node.exec(['apt-mark', 'showhold'])).stdout.split('\n');
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.ok(held.includes(p), `${p} held (apt-mark showhold: ${held.join(' ')})`);
  assert.equal((await node.exec(['systemctl', 'is-enabled', 'kubelet'], { allowFailure: true })).stdout.trim(), 'enabled');
}

// containerd running with the systemd cgroup driver and the right sandbox image, and
// exactly the two worker images pulled through the mirror.
export async function assertRuntimeReady(node: Node): Promise<void> {
  assert.equal((await node.exec(['systemctl', 'is-active', 'containerd'], { allowFailure: true })).stdout.trim(), 'active');
  const dump = (await node.exec(['containerd', 'config', 'dump'])).stdout;
  assert.match(dump, /SystemdCgroup = true/, 'runc uses the systemd cgroup driver');
  assert.match(dump, /sandbox_image = "registry\.k8s\.io\/pause:3\.10"/, 'sandbox image is pause:3.10');
  assert.deepEqual(await k8sImages(node), EXPECTED_IMAGES);
  assert.match(await read(node, '/etc/crictl.yaml'), /unix:\/\/\/run\/containerd\/containerd\.sock/);
}

// Joined as kubeadm leaves a worker, kubelet healthy, and the control plane's own view:
// this node's Node object Ready with a podCIDR.
export async function assertJoined(w: Pick<World, 'node' | 'cp'>): Promise<void> {
  const { node } = w;
  for (const f of ['/etc/kubernetes/kubelet.conf', '/etc/kubernetes/pki/ca.crt', '/var/lib/kubelet/config.yaml', '/var/lib/kubelet/kubeadm-flags.env']) {
    assert.equal((await node.exec(['test', '-s', f], { allowFailure: true })).exitCode, 0, `${f} written by kubeadm join`);
  }
  assert.equal((await node.exec(['systemctl', 'is-active', 'kubelet'], { allowFailure: true })).stdout.trim(), 'active');
  assert.equal((await node.exec(['curl', '-s', '--max-time', '5', 'http://127.0.0.1:10248/healthz'], { allowFailure: true })).stdout.trim(), 'ok');
  const hostname = (await node.exec(['hostname'])).stdout.trim();
  const nodes = await w.cp!.nodes();
  const me = nodes.find((n) => n.name === hostname);
  assert.ok(me, `control plane has a Node "${hostname}" (has: ${nodes.map((n) => n.name).join(', ') || 'none'})`);
  assert.ok(me.ready, `Node ${hostname} is Ready`);
  assert.match(me.podCIDR ?? '', /^10\.244\.\d+\.0\/24$/, 'Node has a podCIDR');
}

// The bootstrap token secret must not survive on disk or in anything the agent shows.
export async function assertTokenNotLeaked(node: Node, token: string, shown: string[]): Promise<void> {
  const secret = token.split('.')[1]!;
  for (const s of shown) assert.ok(!s.includes(secret), 'token secret shown in output');
  const r = await node.exec(['grep', '-rl', secret, '/var/lib/joinagent', '/var/log', '/run/joinagent'], { allowFailure: true });
  assert.equal(r.stdout.trim(), '', `token secret found on disk in: ${r.stdout.trim()}`);
}

// What /status publishes about the Node is what the control plane holds: same name,
// Ready, same podCIDR (the agent read it back, it did not make it up).
export async function assertPublishedNode(w: World, s: StatusDocument): Promise<void> {
  const published = s.published.node as { name?: string; ready?: boolean; podCIDR?: string } | undefined;
  assert.ok(published, `/status published.node is set (published: ${Object.keys(s.published).join(', ')})`);
  const me = (await w.cp!.nodes()).find((n) => n.name === published.name);
  assert.ok(me, `the control plane has the Node /status names ("${published.name}")`);
  assert.equal(published.ready, true, '/status published.node.ready');
  assert.equal(published.podCIDR, me.podCIDR, '/status podCIDR = the Node object\'s podCIDR');
  assert.equal(published.name, (await w.node.exec(['hostname'])).stdout.trim(), 'the Node is named after the host');
}
