import assert from 'node:assert/strict';
import { test } from 'node:test';
import { remainingActions, upgradeActions, type UpgradePlanInput } from '../../../src/upgrade/actions.js';
import { configAt } from '../../../src/upgrade/node-version.js';
import { testConfig } from '../../helpers/fakes.js';

const base: UpgradePlanInput = {
  from: 'v1.32.11',
  to: 'v1.32.12',
  nodeName: 'k8s-w1',
  images: { kubeProxy: 'registry.k8s.io/kube-proxy:v1.32.12', pause: 'registry.k8s.io/pause:3.10' },
  hold: 'apt-mark hold',
};

test('a patch upgrade: images first, kubeadm before kubeadm upgrade node, kubelet after, then restart and proof', () => {
  assert.deepEqual(upgradeActions(base).map((a) => a.id), ['images', 'kubeadm', 'kubeadm-upgrade-node', 'kubelet', 'restart-kubelet', 'verify']);
});

test('a minor upgrade switches the repository first and moves cri-tools to the new minor', () => {
  const a = upgradeActions({ ...base, to: 'v1.33.2', repoUrl: 'https://pkgs.k8s.io/core:/stable:/v1.33/deb/', images: { kubeProxy: 'r/kube-proxy:v1.33.2', pause: 'r/pause:3.10' } });
  assert.deepEqual(a.map((x) => x.id), ['repository', 'images', 'kubeadm', 'kubeadm-upgrade-node', 'kubelet', 'restart-kubelet', 'verify']);
  assert.match(a[0].description, /v1\.33 \(https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.33\/deb\/\)/);
  assert.match(a.find((x) => x.id === 'kubelet')!.description, /kubelet and kubectl 1\.33\.2, cri-tools 1\.33\.\*/);
  assert.match(a.find((x) => x.id === 'images')!.description, /kube-proxy:v1\.33\.2 and r\/pause:3\.10/);
});

test('with a drain kubeconfig: drain after kubeadm upgrade node, before the kubelet; uncordon last', () => {
  const ids = upgradeActions({ ...base, drain: { kubeconfig: '/etc/joinagent/drain.conf', timeoutMs: 300_000 } }).map((a) => a.id);
  assert.deepEqual(ids, ['images', 'kubeadm', 'kubeadm-upgrade-node', 'drain', 'kubelet', 'restart-kubelet', 'verify', 'uncordon']);
  assert.match(upgradeActions({ ...base, drain: { kubeconfig: '/k', timeoutMs: 90_000 } })[3].description, /kubectl drain k8s-w1 --ignore-daemonsets --delete-emptydir-data --timeout=90s/);
});

test('resuming drops the actions recorded as done, keeps the order', () => {
  const all = upgradeActions(base);
  assert.deepEqual(remainingActions(all, ['images', 'kubeadm', 'kubeadm-upgrade-node']).map((a) => a.id), ['kubelet', 'restart-kubelet', 'verify']);
});

test('configAt: the other steps see what the node runs until the upgrade moved it', () => {
  const c = testConfig({ kubernetesVersion: 'v1.32.12' });
  assert.equal(configAt(c, undefined), c, 'not joined: the config as written');
  assert.equal(configAt(c, { version: 'v1.32.12', source: 'record' }), c, 'already there');
  const pending = configAt(c, { version: 'v1.32.11', source: 'record' });
  assert.equal(pending.agent.kubernetesVersion, 'v1.32.11');
  assert.equal(pending.agent.upgrading, undefined, 'not started: the packages step keeps the old version held');
  const going = configAt(c, { version: 'v1.32.11', source: 'record', upgrade: { from: 'v1.32.11', to: 'v1.32.12', startedAt: '', done: ['images', 'kubeadm'] } });
  assert.deepEqual(going.agent.upgrading, { from: 'v1.32.11', to: 'v1.32.12' }, 'under way: the kube packages belong to the upgrade');
  assert.equal(c.agent.kubernetesVersion, 'v1.32.12', 'the loaded config is not modified');
});
