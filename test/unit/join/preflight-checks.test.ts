import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClusterView } from '../../../src/join/cluster-read.js';
import { refusedNodeLabels } from '../../../src/join/node-labels.js';
import { nodeNameVerdict } from '../../../src/join/node-name.js';
import { preflightFindings, type PreflightFacts } from '../../../src/join/preflight-checks.js';

const cluster = (c: Partial<ClusterView> = {}): ClusterView => ({ notes: [], kubeadmVersion: 'v1.32.11', kubelet: { cgroupDriver: 'systemd' }, node: null, ...c });
const facts = (f: Partial<PreflightFacts> = {}): PreflightFacts => ({ kubernetesVersion: 'v1.32.11', serverVersion: 'v1.32.11', cluster: cluster(), nodeName: 'worker-1', swapMode: 'disable', swapActive: false, existingNode: 'refuse', ...f });
const levels = (f: Partial<PreflightFacts>) => preflightFindings(facts(f)).map((x) => `${x.level} ${x.check}`);

describe('preflight: version and skew', () => {
  test('table', () => {
    const rows: [string, string, string[]][] = [
      ['v1.32.11', 'v1.32.11', []],
      ['v1.32.10', 'v1.32.11', ['warn version']],
      ['v1.31.4', 'v1.32.11', ['error version']],
      // the kubelet newer than the API server: the skew policy forbids it
      ['v1.33.0', 'v1.32.11', ['error version']],
      ['v1.28.0', 'v1.32.11', ['error version']],
    ];
    for (const [mine, server, want] of rows) assert.deepEqual(levels({ kubernetesVersion: mine, serverVersion: server, cluster: cluster({ kubeadmVersion: server }) }), want, `${mine} against ${server}`);
  });
  test('the message names both versions and the way out', () => {
    const [f] = preflightFindings(facts({ kubernetesVersion: 'v1.31.4', cluster: cluster({ kubeadmVersion: 'v1.32.11' }) }));
    assert.match(f.message, /kubernetesVersion v1\.31\.4 differs from the cluster's v1\.32\.11 \(the cluster's kubeadm-config\)/);
    assert.match(f.hint!, /kubernetesVersion: v1\.32\.11 \(or kubernetesVersion: cluster/);
    const [newer] = preflightFindings(facts({ kubernetesVersion: 'v1.33.0' }));
    assert.match(newer.message, /newer than the API server/);
  });
});

describe('preflight: cgroup driver, swap, serving certificates', () => {
  test('the cluster says cgroupfs and kubelet.cgroupDriver is unset: containerd would be systemd', () => {
    const [f, ...rest] = preflightFindings(facts({ cluster: cluster({ kubelet: { cgroupDriver: 'cgroupfs' } }) }));
    assert.equal(rest.length, 0);
    assert.equal(f.level, 'error');
    assert.match(f.message, /cgroupDriver: cgroupfs.*containerd's runc would use the systemd driver/);
    assert.match(f.hint!, /set kubelet\.cgroupDriver: cgroupfs/);
  });
  test('set explicitly: no contradiction (a warning when it differs from the cluster)', () => {
    assert.deepEqual(levels({ kubeletCgroupDriver: 'cgroupfs', cluster: cluster({ kubelet: { cgroupDriver: 'cgroupfs' } }) }), []);
    assert.deepEqual(levels({ kubeletCgroupDriver: 'systemd', cluster: cluster({ kubelet: { cgroupDriver: 'cgroupfs' } }) }), ['warn cgroup-driver']);
    assert.deepEqual(levels({ cluster: cluster({ kubelet: {} }) }), [], 'absent in kubelet-config: kubeadm\'s default, systemd');
    assert.deepEqual(levels({ cluster: cluster({ kubelet: undefined }) }), [], 'no kubelet-config: nothing to compare');
  });
  test('swap: only leave + active + failSwapOn refuses', () => {
    assert.deepEqual(levels({ swapMode: 'leave', swapActive: true }), ['error swap']);
    assert.deepEqual(levels({ swapMode: 'leave', swapActive: true, cluster: cluster({ kubelet: { failSwapOn: false } }) }), []);
    assert.deepEqual(levels({ swapMode: 'leave', swapActive: true, kubeletFailSwapOn: false }), []);
    assert.deepEqual(levels({ swapMode: 'disable', swapActive: true }), [], 'the swap step turns it off first');
    assert.deepEqual(levels({ swapMode: 'leave', swapActive: false }), []);
  });
  test('serverTLSBootstrap: the administrator\'s command is named', () => {
    const [f] = preflightFindings(facts({ cluster: cluster({ kubelet: { serverTLSBootstrap: true } }) }));
    assert.equal(f.level, 'info');
    assert.match(f.hint!, /kubectl certificate approve/);
  });
});

describe('preflight: a Node of this name', () => {
  const node = { name: 'worker-1', labels: { 'kubernetes.io/hostname': 'worker-1', 'topology.kubernetes.io/zone': 'a' }, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }], internalIPs: ['10.0.0.5'], lastHeartbeat: '2026-12-01T10:00:00Z' };
  test('Ready: another machine has the name', () => {
    const [f] = preflightFindings(facts({ cluster: cluster({ node: { ...node, ready: true } }) }));
    assert.equal(f.level, 'error');
    assert.match(f.message, /"worker-1" already exists and is Ready.*InternalIP 10\.0\.0\.5.*another machine has this name/);
    assert.match(f.hint!, /nodeRegistration\.name/);
  });
  test('NotReady: a reinstall; says what to delete, names labels and taints, adopt joins under it', () => {
    const [f] = preflightFindings(facts({ cluster: cluster({ node: { ...node, ready: false } }) }));
    assert.equal(f.level, 'error');
    assert.match(f.message, /NotReady \(last heartbeat 2026-12-01T10:00:00Z\)/);
    assert.match(f.message, /labels topology\.kubernetes\.io\/zone=a and taints dedicated=db:NoSchedule/);
    assert.match(f.hint!, /kubectl delete node worker-1/);
    assert.match(f.hint!, /join\.existingNode: adopt/);
    assert.deepEqual(levels({ existingNode: 'adopt', cluster: cluster({ node: { ...node, ready: false } }) }), ['warn node']);
  });
});

describe('node name and labels', () => {
  test('names Kubernetes accepts, and how to set one', () => {
    assert.deepEqual(nodeNameVerdict(undefined, 'worker-1'), { name: 'worker-1' });
    assert.equal(nodeNameVerdict(undefined, 'Worker-1').name, 'worker-1');
    assert.match(nodeNameVerdict(undefined, 'Worker-1').warning!, /upper-case.*"worker-1"/);
    const bad = nodeNameVerdict(undefined, 'worker_1');
    assert.match(bad.error!, /"worker_1" \(from the host name "worker_1"\) is not a valid Kubernetes node name/);
    assert.match(bad.hint!, /hostnamectl set-hostname worker-1/);
    assert.match(nodeNameVerdict('-w', 'ok').error!, /nodeRegistration\.name/);
    assert.ok(nodeNameVerdict(undefined, 'a'.repeat(254)).error);
    assert.deepEqual(nodeNameVerdict('w1.example.com', 'x'), { name: 'w1.example.com' });
  });
  test('labels the kubelet refuses at registration', () => {
    assert.deepEqual(refusedNodeLabels('node-role.kubernetes.io/worker=,team=a'), ['node-role.kubernetes.io/worker']);
    assert.deepEqual(refusedNodeLabels('node-restriction.kubernetes.io/pool=x,foo.k8s.io/bar=1,k8s.io/x=1'), ['node-restriction.kubernetes.io/pool', 'foo.k8s.io/bar', 'k8s.io/x']);
    assert.deepEqual(refusedNodeLabels('node.kubernetes.io/pool=a,kubelet.kubernetes.io/x=1,topology.kubernetes.io/zone=z,example.com/kubernetes.io=1'), []);
  });
});

describe('machine identity and kubelet certificates', () => {
  test('a machine-id shared with the image is refused with how to regenerate it', async () => {
    const { machineIdVerdict } = await import('../../../src/join/machine-id.js');
    assert.deepEqual(machineIdVerdict('0123456789abcdef0123456789abcdef'), {});
    for (const id of ['', 'uninitialized', undefined, 'XYZ']) {
      const v = machineIdVerdict(id);
      assert.ok(v.error, `refused: ${JSON.stringify(id)}`);
      assert.match(v.hint!, /systemd-machine-id-setup/);
    }
  });
  test('client certificate expired or near expiry, pending serving CSR, serving IP SANs without the node IP', async () => {
    const { kubeletCertFindings } = await import('../../../src/join/kubelet-certs.js');
    const now = new Date('2026-12-02T00:00:00Z');
    const base = { now, nodeName: 'worker-1', nodeIPs: ['10.0.0.5'] };
    assert.deepEqual(kubeletCertFindings({ clientNotBefore: '2026-01-01T00:00:00Z', clientNotAfter: '2027-06-01T00:00:00Z' }, base), []);
    const [expired] = kubeletCertFindings({ clientNotBefore: '2025-01-01T00:00:00Z', clientNotAfter: '2026-01-01T00:00:00Z' }, base);
    assert.equal(expired.level, 'error');
    assert.match(expired.message, /expired at 2026-01-01T00:00:00Z/);
    assert.match(expired.hint, /new bootstrap token/);
    assert.equal(kubeletCertFindings({ clientNotBefore: '2026-01-01T00:00:00Z', clientNotAfter: '2026-12-10T00:00:00Z' }, base)[0].level, 'warn', 'under 10% of its life left');
    const [pending] = kubeletCertFindings({}, { ...base, serverTLSBootstrap: true });
    assert.match(pending.hint, /kubectl certificate approve/);
    assert.match(pending.hint, /system:node:worker-1/);
    const [sans] = kubeletCertFindings({ servingNotAfter: '2027-01-01T00:00:00Z', servingIPs: ['127.0.0.1'] }, base);
    assert.match(sans.message, /not the node IP 10\.0\.0\.5/);
    assert.deepEqual(kubeletCertFindings({ servingNotAfter: '2027-01-01T00:00:00Z', servingIPs: ['10.0.0.5'] }, { ...base, serverTLSBootstrap: true }), []);
  });
});

describe('preflight: this machine\'s own Node', () => {
  const own = { name: 'worker-1', ready: true, labels: {}, taints: [], internalIPs: ['10.0.0.5'], machineID: 'aa' };
  test('Ready but reported by this machine (same machine-id or one of its IPs): a reset, not another machine', () => {
    assert.deepEqual(levels({ machineId: 'aa', cluster: cluster({ node: own }) }), ['warn node']);
    assert.deepEqual(levels({ localIPs: ['10.0.0.5'], cluster: cluster({ node: { ...own, machineID: undefined } }) }), ['warn node']);
    assert.deepEqual(levels({ machineId: 'bb', localIPs: ['10.0.0.6'], cluster: cluster({ node: own }) }), ['error node'], 'someone else\'s');
  });
});
