import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { JoinDocument } from '../../../src/config/types.js';
import { chooseNodeIP, withNatWarning } from '../../../src/join/nodeip.js';
import { renderJoinConfig } from '../../../src/join/render.js';
import { FakeProc } from '../../helpers/fakes.js';

const join = (over: Partial<JoinDocument> = {}): JoinDocument => ({
  apiVersion: 'kubeadm.k8s.io/v1beta4',
  raw: { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'JoinConfiguration', discovery: { bootstrapToken: { apiServerEndpoint: '192.168.10.100:6443', caCertHashes: [`sha256:${'a'.repeat(64)}`] } } },
  apiServerEndpoint: '192.168.10.100:6443',
  caCertHashes: [`sha256:${'a'.repeat(64)}`],
  unsafeSkipCAVerification: false,
  criSocket: 'unix:///run/containerd/containerd.sock',
  kubeletExtraArgs: [],
  ...over,
});

test('render: token injected, node-ip appended (v1beta4 list), criSocket explicit; without token: no token key', () => {
  const doc = parse(renderJoinConfig(join(), 'abcdef.0123456789abcdef', '192.168.10.101', '/etc/joinagent/config.yaml'));
  assert.equal(doc.discovery.bootstrapToken.token, 'abcdef.0123456789abcdef');
  assert.deepEqual(doc.nodeRegistration, { criSocket: 'unix:///run/containerd/containerd.sock', kubeletExtraArgs: [{ name: 'node-ip', value: '192.168.10.101' }] });
  const kept = renderJoinConfig(join(), undefined, '192.168.10.101', 'c');
  assert.doesNotMatch(kept, /token:/);
  assert.match(kept, /The bootstrap token was removed after the join/);
});

test('render: a node-ip the user set wins; v1beta3 uses a map', () => {
  const user = join({ raw: { discovery: { bootstrapToken: {} }, nodeRegistration: { kubeletExtraArgs: [{ name: 'node-ip', value: '10.9.9.9' }] } }, kubeletExtraArgs: [{ name: 'node-ip', value: '10.9.9.9' }] });
  assert.deepEqual(parse(renderJoinConfig(user, undefined, '192.168.10.101', 'c')).nodeRegistration.kubeletExtraArgs, [{ name: 'node-ip', value: '10.9.9.9' }]);
  const b3 = join({ apiVersion: 'kubeadm.k8s.io/v1beta3', raw: { discovery: { bootstrapToken: {} }, nodeRegistration: { kubeletExtraArgs: { 'max-pods': '50' } } } });
  const doc = parse(renderJoinConfig(b3, 't', '192.168.10.101', 'c'));
  assert.equal(doc.apiVersion, 'kubeadm.k8s.io/v1beta3');
  assert.deepEqual(doc.nodeRegistration.kubeletExtraArgs, { 'max-pods': '50', 'node-ip': '192.168.10.101' });
});

// The runbook's Vagrant VM: NAT enp0s3 (10.0.2.15, default route) + host-only enp0s9.
function vagrant(): FakeProc {
  // later responders win, so the generic `ip -j addr show` goes first
  return new FakeProc()
    .on('ip -j addr show', { stdout: '[{"ifname":"enp0s3","addr_info":[{"family":"inet","local":"10.0.2.15","scope":"global"}]},{"ifname":"enp0s9","addr_info":[{"family":"inet","local":"192.168.10.101","scope":"global"}]}]' })
    .on('ip -j route get 192.168.10.100', { stdout: '[{"dst":"192.168.10.100","dev":"enp0s9","prefsrc":"192.168.10.101","flags":[],"uid":0,"cache":[]}]' })
    .on('ip -j route get 203.0.113.10', { stdout: '[{"dst":"203.0.113.10","gateway":"10.0.2.2","dev":"enp0s3","prefsrc":"10.0.2.15"}]' })
    .on('ip -j route show default', { stdout: '[{"dst":"default","gateway":"10.0.2.2","dev":"enp0s3"}]' })
    .on('ip -j addr show dev enp0s9', { stdout: '[{"ifname":"enp0s9","addr_info":[{"family":"inet6","local":"fe80::1","scope":"link"},{"family":"inet","local":"192.168.10.101","scope":"global"}]}]' })
    .on('ip -j addr show dev nope', { exitCode: 1, stderr: 'Device "nope" does not exist.' });
}

test('nodeIP auto: the source address toward the API server, not the NAT address', async () => {
  const c = await chooseNodeIP('auto', '192.168.10.100:6443', vagrant());
  assert.equal(c.ip, '192.168.10.101');
  assert.equal(c.warning, undefined);
});

test('nodeIP auto through the NAT default route: warned, with the other address named', async () => {
  const c = await chooseNodeIP('auto', '203.0.113.10:6443', vagrant());
  assert.equal(c.ip, '10.0.2.15');
  assert.match(c.warning!.message, /looks like a VirtualBox NAT address/);
});

test('nodeIP interface:NAME and literal; a missing interface is named', async () => {
  assert.equal((await chooseNodeIP('interface:enp0s9', '192.168.10.100:6443', vagrant())).ip, '192.168.10.101');
  assert.equal((await chooseNodeIP('192.168.10.77', '192.168.10.100:6443', vagrant())).ip, '192.168.10.77');
  await assert.rejects(chooseNodeIP('interface:nope', '192.168.10.100:6443', vagrant()), /interface "nope" does not exist/);
});

test('withNatWarning: 10.0.2.15 always; 10.0.2.x only on the 10.0.2.2-gateway interface', () => {
  assert.ok(withNatWarning({ ip: '10.0.2.15', how: '' }, undefined).warning);
  assert.ok(withNatWarning({ ip: '10.0.2.16', how: '', dev: 'eth0' }, { gateway: '10.0.2.2', dev: 'eth0' }).warning);
  assert.equal(withNatWarning({ ip: '10.0.2.16', how: '', dev: 'eth1' }, { gateway: '10.0.2.2', dev: 'eth0' }).warning, undefined);
  assert.equal(withNatWarning({ ip: '192.168.10.101', how: '' }, { gateway: '10.0.2.2', dev: 'eth0' }).warning, undefined);
});

test('render, file discovery: the token goes to discovery.tlsBootstrapToken, no bootstrapToken appears; removed after the join', () => {
  const file = join({ discovery: { kind: 'file', kubeConfigPath: '/etc/joinagent/discovery.conf' }, raw: { discovery: { file: { kubeConfigPath: '/etc/joinagent/discovery.conf' } } }, apiServerEndpoint: '[fd00::1]:6443', caCertHashes: [] });
  const doc = parse(renderJoinConfig(file, 'abcdef.0123456789abcdef', 'fd00::101', 'c'));
  assert.deepEqual(doc.discovery, { file: { kubeConfigPath: '/etc/joinagent/discovery.conf' }, tlsBootstrapToken: 'abcdef.0123456789abcdef' });
  const kept = parse(renderJoinConfig(file, undefined, 'fd00::101', 'c'));
  assert.deepEqual(kept.discovery, { file: { kubeConfigPath: '/etc/joinagent/discovery.conf' } });
});
