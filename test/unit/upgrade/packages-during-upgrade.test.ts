import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubernetesRepoUrl, repositoryPlan } from '../../../src/steps/host/packages/repos.js';
import { wantedPackages } from '../../../src/steps/host/packages/wanted.js';
import { debianFacts, testConfig } from '../../helpers/fakes.js';

test('a mirror URL laid out as pkgs.k8s.io follows kubernetesVersion\'s minor; a flat one stays', () => {
  const at = (url: string, v: string) => kubernetesRepoUrl(testConfig({ kubernetesVersion: v, repositories: { kubernetes: { url } } }), 'debian');
  assert.equal(at('http://mirror:8080/core:/stable:/v1.32/deb/', 'v1.33.2'), 'http://mirror:8080/core:/stable:/v1.33/deb/');
  assert.equal(at('http://mirror:8080/core:/stable:/v1.32/deb', 'v1.32.12'), 'http://mirror:8080/core:/stable:/v1.32/deb/');
  assert.equal(at('http://mirror:8080/debian/', 'v1.33.2'), 'http://mirror:8080/debian/');
  assert.equal(kubernetesRepoUrl(testConfig({ kubernetesVersion: 'v1.33.2' }), 'debian'), 'https://pkgs.k8s.io/core:/stable:/v1.33/deb/');
});

test('while an upgrade is under way the packages step leaves the kube packages and their repository to it', () => {
  const c = testConfig({ upgrading: { from: 'v1.32.11', to: 'v1.32.12' } });
  assert.deepEqual(wantedPackages(c, debianFacts).map((w) => w.name), ['containerd', 'runc']);
  assert.deepEqual(repositoryPlan(c, debianFacts, { id: 'debian' }).files.map((f) => f.path), []);
  assert.deepEqual(wantedPackages(testConfig(), debianFacts).map((w) => w.name), ['kubelet', 'kubeadm', 'kubectl', 'cri-tools', 'containerd', 'runc']);
  assert.deepEqual(repositoryPlan(testConfig(), debianFacts, { id: 'debian' }).files.map((f) => f.path), ['/etc/apt/sources.list.d/kubernetes.list']);
});
