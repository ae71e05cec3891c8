import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pauseImageFor, registryHost, UnknownKubernetesMinor, workerImages } from '../../../src/runtime/images.js';
import { criSocketPath } from '../../../src/runtime/socket.js';

describe('pause tag per Kubernetes minor (kubeadm PauseVersion)', () => {
  const table: [string, string][] = [
    ['v1.26.15', '3.9'],
    ['v1.30.0', '3.9'],
    ['v1.31.4', '3.10'],
    ['v1.32.11', '3.10'],
    ['v1.33.4', '3.10'],
    ['v1.34.1', '3.10.1'],
    ['v1.35.0', '3.10.1'],
  ];
  for (const [v, tag] of table) it(`${v} -> ${tag}`, () => assert.equal(pauseImageFor(v), tag));

  it('an unknown minor is refused, naming the version and the known range', () => {
    assert.throws(() => pauseImageFor('v1.36.0'), (e: unknown) => e instanceof UnknownKubernetesMinor && e.message === 'kubernetesVersion v1.36.0: joinagent does not know which pause image kubeadm uses for this minor (known: v1.26 to v1.35)');
    assert.throws(() => pauseImageFor('v1.25.16'), UnknownKubernetesMinor);
  });
});

describe('workerImages: exactly kube-proxy and pause', () => {
  it('from registry.k8s.io', () => {
    assert.deepEqual(workerImages({ kubernetesVersion: 'v1.32.11', images: { repository: 'registry.k8s.io' } }), { kubeProxy: 'registry.k8s.io/kube-proxy:v1.32.11', pause: 'registry.k8s.io/pause:3.10' });
  });
  it('from a private repository path (trailing slash tolerated)', () => {
    assert.deepEqual(workerImages({ kubernetesVersion: 'v1.30.2', images: { repository: 'harbor.example:8443/k8s/' } }), { kubeProxy: 'harbor.example:8443/k8s/kube-proxy:v1.30.2', pause: 'harbor.example:8443/k8s/pause:3.9' });
  });
});

describe('registry host and socket path', () => {
  for (const [ref, host] of [['registry.k8s.io/pause:3.10', 'registry.k8s.io'], ['harbor.example:8443/k8s/pause:3.10', 'harbor.example:8443'], ['library/busybox:1', 'docker.io'], ['busybox', 'docker.io'], ['localhost/x:1', 'localhost']]) {
    it(`${ref} -> ${host}`, () => assert.equal(registryHost(ref), host));
  }
  it('criSocket URLs map to paths; others are refused', () => {
    assert.equal(criSocketPath('unix:///run/containerd/containerd.sock'), '/run/containerd/containerd.sock');
    assert.equal(criSocketPath('unix:/run/crio/crio.sock'), '/run/crio/crio.sock');
    assert.throws(() => criSocketPath('npipe:////./pipe/containerd-containerd'), /is not a unix socket URL/);
  });
});
