import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { agentEnv, runBinary, tempRoot, TOKEN, writeConfig } from './harness.js';

// The built binary's preflight against the simulated control plane (kubeadm's bootstrap
// RBAC): what it reads with the token, and `kubernetesVersion: cluster`.
describe('preflight (built binary)', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ port: 19733, tokens: [TOKEN], version: 'v1.31.6' });
  });
  after(() => cp.close());

  test('kubernetesVersion: cluster takes the control plane\'s version; plan shows what preflight read', async () => {
    const t = tempRoot();
    try {
      mkdirSync(path.join(t.root, 'etc'), { recursive: true });
      writeFileSync(path.join(t.root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
      // tempRoot's fake CRI answers kubeadm's RuntimeService calls only; without a socket the
      // images step plans its pulls as on a host whose containerd is not installed yet
      rmSync(path.join(t.root, 'run/containerd/containerd.sock'), { force: true });
      const cfg = writeConfig(t.root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash], version: 'cluster', joinExtra: 'nodeRegistration:\n  name: w-pre\n' });
      const v = await runBinary(['validate', '--config', cfg], agentEnv(t.root));
      assert.equal(v.code, 0, `validate accepts kubernetesVersion: cluster:\n${v.stdout}${v.stderr}`);
      const r = await runBinary(['plan', '--only', 'preflight,images', '--config', cfg, '--root', t.root], agentEnv(t.root));
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^preflight +ok/m);
      assert.match(r.stdout, /kube-proxy:v1\.31\.6/, 'the images follow the cluster\'s version');
      const reads = cp.requests.filter((q) => q.user === 'system:bootstrap:abcdef').map((q) => `${q.path} ${q.code}`);
      assert.deepEqual(reads, ['/api/v1/namespaces/kube-system/configmaps/kubeadm-config 200', '/api/v1/namespaces/kube-system/configmaps/kubelet-config 200', '/api/v1/nodes/w-pre 404'], 'exactly the reads kubeadm\'s RBAC allows the token');
    } finally {
      t.cleanup();
    }
  });

  test('kubernetesVersion: cluster with the control plane unreachable: exit 1, one line naming the way out', async () => {
    const t = tempRoot();
    try {
      const cfg = writeConfig(t.root, { endpoint: '127.0.0.1:19731', token: TOKEN, unsafe: true, version: 'cluster' });
      const r = await runBinary(['plan', '--config', cfg, '--root', t.root], agentEnv(t.root));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /kubernetesVersion: cluster: cannot read the control plane's version from 127\.0\.0\.1:19731: .*set kubernetesVersion to its version/);
    } finally {
      t.cleanup();
    }
  });
});
