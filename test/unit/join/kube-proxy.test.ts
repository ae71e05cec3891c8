import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diagnoseKubeProxy } from '../../../src/join/pod-diagnosis.js';
import { kubeProxyVerdict } from '../../../src/join/podstatus.js';

const pod = (status: object, name = 'kube-proxy-x7k2p') => ({ metadata: { name, labels: { 'k8s-app': 'kube-proxy' } }, spec: { containers: [{ name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.32.11' }] }, status });
const running = pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'kube-proxy', ready: true, restartCount: 0, state: { running: { startedAt: 'x' } } }] });
const crashing = pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'kube-proxy', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } } }] });
const creating = pod({ phase: 'Pending', containerStatuses: [{ name: 'kube-proxy', restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] });
const pullFail = pod({ phase: 'Pending', containerStatuses: [{ name: 'kube-proxy', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.k8s.io/kube-proxy:v1.32.11"' } } }] });

describe('kube-proxy pod verdict', () => {
  test('Running and Ready is running; anything else says phase, reason and restarts', () => {
    assert.deepEqual([running, crashing, creating].map((p) => kubeProxyVerdict('w1', [p]).summary), [
      'kube-proxy-x7k2p Running',
      'kube-proxy-x7k2p is not running: Running, CrashLoopBackOff, restarted 4 times (back-off 10s)',
      'kube-proxy-x7k2p is not running: Pending, ContainerCreating',
    ]);
    assert.equal(kubeProxyVerdict('w1', [running]).running, true);
    assert.equal(kubeProxyVerdict('w1', [crashing]).running, false);
  });
  test('no kube-proxy pod among the node\'s pods', () => {
    const other = { metadata: { name: 'kube-flannel-ds-abcde', labels: { app: 'flannel' } } };
    assert.deepEqual(kubeProxyVerdict('w1', [other]), { found: false, running: false, summary: 'no kube-proxy pod is bound to Node "w1" yet' });
  });
});

describe('kube-proxy diagnosis from the node\'s facts', () => {
  const ok = { kubeletDriver: 'systemd', runcSystemdCgroup: true, driverFromRuntime: false, sandboxImage: 'registry.k8s.io/pause:3.10', sandboxPresent: true, kubeProxyImage: 'registry.k8s.io/kube-proxy:v1.32.11', kubeProxyPresent: true };
  test('runc cgroupfs under a systemd kubelet: the sandbox is re-created; set SystemdCgroup = true', () => {
    const d = diagnoseKubeProxy(kubeProxyVerdict('w1', [crashing]), { ...ok, runcSystemdCgroup: false });
    assert.match(d.message, /re-created because containerd's runc SystemdCgroup = false \(cgroupfs\) but kubelet uses systemd/);
    assert.match(d.hint, /set SystemdCgroup = true .*systemctl restart containerd/);
    assert.equal(d.definite, true);
  });
  test('containerd 2.x gives kubelet its driver over the CRI: no mismatch possible', () => {
    const d = diagnoseKubeProxy(kubeProxyVerdict('w1', [crashing]), { ...ok, runcSystemdCgroup: false, driverFromRuntime: true });
    assert.equal(d.definite, false);
    assert.doesNotMatch(d.message, /SystemdCgroup/);
  });
  test('the sandbox image missing: named, with where it should come from', () => {
    const d = diagnoseKubeProxy(kubeProxyVerdict('w1', [creating]), { ...ok, sandboxPresent: false });
    assert.match(d.message, /sandbox image registry\.k8s\.io\/pause:3\.10 is not on this node/);
    assert.equal(d.definite, true);
  });
  test('the kube-proxy image missing while the kubelet backs off pulling it', () => {
    const d = diagnoseKubeProxy(kubeProxyVerdict('w1', [pullFail]), { ...ok, kubeProxyPresent: false });
    assert.match(d.message, /ImagePullBackOff.*the image registry\.k8s\.io\/kube-proxy:v1\.32\.11 is not on this node/);
    assert.equal(d.definite, true);
  });
  test('a cause found before the kubelet reported the pod: named, but waited for', () => {
    const fresh = pod({ phase: 'Pending' });
    const d = diagnoseKubeProxy(kubeProxyVerdict('w1', [fresh]), { ...ok, runcSystemdCgroup: false });
    assert.match(d.message, /SystemdCgroup = false/);
    assert.equal(d.definite, false);
  });
  test('nothing found locally: the pod state and where to look, retried', () => {
    const d = diagnoseKubeProxy(kubeProxyVerdict('w1', [creating]), ok);
    assert.equal(d.message, 'kube-proxy-x7k2p is not running: Pending, ContainerCreating');
    assert.match(d.hint, /kubectl -n kube-system describe pod kube-proxy-x7k2p/);
    assert.equal(d.definite, false);
  });
});
