import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { captureSnapshot } from '../../../src/ops/snapshot/capture.js';
import { hexToIpv4, hexToIpv6, parseSocketTable } from '../../../src/ops/snapshot/views-proc.js';
import type { Snapshot, View } from '../../../src/ops/snapshot/types.js';
import { buildFakeHost } from '../../helpers/fake-host.js';
import { FakeProc, tempRoot } from '../../helpers/fakes.js';

const roots: (() => void)[] = [];
after(() => roots.forEach((c) => c()));

async function snap(joined: boolean, proc = new FakeProc(true)): Promise<Snapshot> {
  const t = tempRoot();
  roots.push(t.cleanup);
  buildFakeHost(t.root, { joined });
  return captureSnapshot(t.files, proc, { label: joined ? 'after' : 'before', hostname: 'k8s-w1', selfPid: 99999 });
}

function items(v: View | undefined): Record<string, string> {
  assert.equal(v?.status, 'ok', JSON.stringify(v));
  return (v as Extract<View, { status: 'ok' }>).items;
}

test('snapshot of a joined fake host: every view read from the temp root', async () => {
  const proc = new FakeProc(true).on(/^ctr .* images ls -q$/, { stdout: 'registry.k8s.io/kube-proxy:v1.32.11\nregistry.k8s.io/pause:3.10\n' }).on(/^ctr .* containers ls$/, {
    stdout: 'CONTAINER    IMAGE                                  RUNTIME\nabc    registry.k8s.io/pause:3.10    io.containerd.runc.v2\ndef    registry.k8s.io/pause:3.10    io.containerd.runc.v2\n0a1    registry.k8s.io/kube-proxy:v1.32.11    io.containerd.runc.v2\n',
  });
  const s = await snap(true, proc);
  assert.deepEqual(items(s.views.images), { 'registry.k8s.io/kube-proxy:v1.32.11': 'image', 'registry.k8s.io/pause:3.10': 'image' });
  assert.deepEqual(items(s.views.containers), { 'registry.k8s.io/kube-proxy:v1.32.11': '1 container(s)', 'registry.k8s.io/pause:3.10': '2 container(s)' });
  assert.deepEqual(proc.runs(), [], 'a snapshot only probes');

  const l = items(s.views.listening);
  assert.equal(l['tcp 0.0.0.0:10250'], 'kubelet');
  assert.equal(l['tcp 127.0.0.1:10248'], 'kubelet');
  assert.equal(l['tcp 0.0.0.0:22'], 'sshd');
  assert.equal(l['tcp6 [::]:22'], 'sshd');

  const p = items(s.views.processes);
  assert.equal(p['kubelet: /usr/bin/kubelet --config=/var/lib/kubelet/config.yaml'], '1');
  assert.ok(!Object.keys(p).some((k) => k.startsWith('kthreadd')), 'kernel threads are left out');

  const ns = items(s.views.namespaces);
  assert.equal(ns['net:[4026532300]'], 'pause');
  assert.equal(ns['net:[4026531840]'], 'systemd');

  const f = items(s.views['files:/etc/kubernetes']);
  assert.match(f['/etc/kubernetes/kubelet.conf'], /^file 0600 28 bytes sha256:[0-9a-f]{16}$/);
  assert.equal(f['/etc/kubernetes/manifests'], 'dir 0755');
  assert.equal(items(s.views['kubelet-env'])['/var/lib/kubelet/kubeadm-flags.env KUBELET_KUBEADM_ARGS'], '--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=198.18.0.11');

  const sys = items(s.views.sysctls);
  assert.equal(sys['net.ipv4.ip_forward'], '1');
  assert.equal(sys['net.ipv4.ip_local_port_range'], '32768 60999');
  assert.ok(!('kernel.random.boot_id' in sys), 'noisy sysctls are not captured');
  assert.ok(!('vm.compact_memory' in sys), 'write-only sysctls are skipped');

  assert.ok('kubepods.slice/kubepods-besteffort.slice' in items(s.views.cgroups));
  assert.match(items(s.views.mounts)['/var/lib/kubelet/pods/0c6a/volumes/kubernetes.io~projected/kube-api-access-x'], /^tmpfs tmpfs rw,relatime$/);
  // no `ip` tool: addresses come from /sys/class/net and /proc/net
  const a = items(s.views.addresses);
  assert.equal(a.eth0, 'up mtu 1500 02:00:00:00:00:11');
  assert.equal(a['inet 198.18.0.11'], 'local');
  assert.equal(a['lo inet6 0:0:0:0:0:0:0:1/128'], 'scope 10');
});

test('a missing tool is recorded as a missing view, not an error', async () => {
  const s = await snap(false);
  assert.equal(s.views.images.status, 'missing');
  assert.match((s.views.images as { reason: string }).reason, /crictl: not installed; ctr: not installed/);
  assert.equal(s.views.containers.status, 'missing');
  assert.deepEqual(items(s.views['files:/etc/kubernetes']), {}, 'an absent tree is an empty view');
});

test('ip -j addr, when present, gives addresses per interface without lifetimes', async () => {
  const proc = new FakeProc(true).on('ip -j addr', {
    stdout: JSON.stringify([{ ifindex: 2, ifname: 'eth0', mtu: 1500, operstate: 'UP', link_type: 'ether', address: '02:00:00:00:00:11', addr_info: [{ family: 'inet', local: '198.18.0.11', prefixlen: 24, scope: 'global', valid_life_time: 4294967295 }] }]),
  });
  const s = await snap(false, proc);
  assert.deepEqual(items(s.views.addresses), { eth0: 'ether UP mtu 1500 02:00:00:00:00:11', 'eth0 inet 198.18.0.11/24': 'scope global' });
});

test('/proc/net address decoding', () => {
  assert.equal(hexToIpv4('0100007F'), '127.0.0.1');
  assert.equal(hexToIpv6('00000000000000000000000000000000'), '::');
  assert.equal(hexToIpv6('000080FE0000000000FEFF0201000000'), 'fe80::2ff:fe00:0:1');
  const rows = parseSocketTable('hdr\n   0: 0100007F:2808 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 123 1\n   1: 0100007F:2808 0200007F:1F90 01 0 0 0 0 0 124 1\n', { v6: false, state: '0A' });
  assert.deepEqual(rows, [{ address: '127.0.0.1:10248', inode: '123' }]);
});
