import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { agentEnv, runCmd, STANDINS, stopKubelet, tempRoot, TOKEN } from './harness.js';

// The stand-in `kubeadm upgrade node` (test/fixtures/standins/kubeadm-upgrade, reached
// through the kubeadm stand-in) on a node the stand-in kubeadm joined: kubeadm's contract
// for a worker, and how it fails.
describe('stand-in kubeadm upgrade node (worker)', () => {
  let cp: ControlPlane;
  let t: ReturnType<typeof tempRoot>;
  const kubeadm = path.join(STANDINS, 'kubeadm');
  before(async () => {
    cp = await startControlPlane({ port: 19746, tokens: [TOKEN] });
  });
  afterEach(async () => {
    stopKubelet(t.root);
    await runCmd(kubeadm, ['reset', '--force'], agentEnv(t.root, 19748));
    cp.options.served = { kubeadmConfig: true, kubeletConfig: true };
    t.cleanup();
  });
  after(() => cp.close());

  async function joined(name: string): Promise<NodeJS.ProcessEnv> {
    t = tempRoot();
    const env = agentEnv(t.root, 19748);
    const k = path.join(t.root, 'kubeadm.yaml');
    writeFileSync(k, `apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: "${cp.endpoint}"\n    token: "${TOKEN}"\n    caCertHashes: ["${cp.caHash}"]\nnodeRegistration:\n  name: ${name}\n`);
    const r = await runCmd(kubeadm, ['join', '--config', k], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return env;
  }
  const backups = (): string[] => {
    const dir = path.join(t.root, 'etc/kubernetes/tmp');
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  test('backs up config.yaml to /etc/kubernetes/tmp, writes the cluster\'s kubelet-config, prints kubeadm\'s worker lines', async () => {
    const env = await joined('w-up');
    const config = path.join(t.root, 'var/lib/kubelet/config.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}# edited on the node\n`);
    const before = readFileSync(config, 'utf8');
    const r = await runCmd(kubeadm, ['upgrade', 'node'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const line of [
      '[upgrade] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...',
      '[upgrade/preflight] Running pre-flight checks',
      '[upgrade/preflight] Skipping prepull. Not a control plane node.',
      '[upgrade/control-plane] Skipping phase. Not a control plane node.',
      '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
      '[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!',
      '[upgrade/addon] Skipping the addon/kube-proxy phase. Not a control plane node.',
    ]) assert.ok(r.stdout.split('\n').includes(line), `${line}\n${r.stdout}`);
    const [dir] = backups();
    assert.match(dir, /^kubeadm-kubelet-config-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
    assert.match(r.stdout, new RegExp(`\\[upgrade\\] Backing up kubelet config file to /etc/kubernetes/tmp/${dir}/config.yaml`));
    assert.equal(readFileSync(path.join(t.root, 'etc/kubernetes/tmp', dir, 'config.yaml'), 'utf8'), before, 'the old file, moved');
    const after = readFileSync(config, 'utf8');
    assert.match(after, /^kind: KubeletConfiguration$/m);
    assert.doesNotMatch(after, /edited on the node/, 'replaced by the cluster\'s kubelet-config');
    assert.ok(cp.requests.some((q) => q.path === '/api/v1/namespaces/kube-system/configmaps/kubelet-config' && q.auth === 'cert'), 'read as the node');
  });

  test('--patches: the kubeletconfiguration patches are applied to the new file, as at join', async () => {
    const env = await joined('w-patches');
    const dir = path.join(t.root, 'patches');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'kubeletconfiguration.yaml'), 'maxPods: 42\n');
    const r = await runCmd(kubeadm, ['upgrade', 'node', '--patches', dir], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(readFileSync(path.join(t.root, 'var/lib/kubelet/config.yaml'), 'utf8'), /^maxPods: 42$/m);
  });

  test('sabotage: the kubelet-config ConfigMap missing fails with kubeadm\'s words, config.yaml untouched', async () => {
    const env = await joined('w-nocm');
    cp.options.served = { kubeadmConfig: true, kubeletConfig: false };
    const config = path.join(t.root, 'var/lib/kubelet/config.yaml');
    const before = readFileSync(config, 'utf8');
    const r = await runCmd(kubeadm, ['upgrade', 'node'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^unable to fetch the kubeadm-config ConfigMap: .*configmaps "kubelet-config" not found$/m);
    assert.equal(readFileSync(config, 'utf8'), before);
    assert.deepEqual(backups(), []);
    cp.options.served = { kubeadmConfig: false, kubeletConfig: true };
    const r2 = await runCmd(kubeadm, ['upgrade', 'node'], env);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /unable to fetch the kubeadm-config ConfigMap: failed to get config map: configmaps "kubeadm-config" not found/);
  });

  test('sabotage: not joined (no kubelet.conf), or config.yaml gone after a stopped run: kubeadm\'s errors', async () => {
    const env = await joined('w-gone');
    rmSync(path.join(t.root, 'var/lib/kubelet/config.yaml'));
    const r = await runCmd(kubeadm, ['upgrade', 'node'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error execution phase kubelet-config: error backing up the kubelet config file: rename \/var\/lib\/kubelet\/config.yaml/);
    rmSync(path.join(t.root, 'etc/kubernetes/kubelet.conf'));
    const r2 = await runCmd(kubeadm, ['upgrade', 'node'], env);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /couldn't create a Kubernetes client from file "\/etc\/kubernetes\/kubelet.conf"/);
    const r3 = await runCmd(kubeadm, ['upgrade', 'apply', 'v1.33.0'], env);
    assert.equal(r3.code, 1, 'only upgrade node is modelled');
  });

  test('the control plane serves the two ConfigMaps to nodes only', async () => {
    await joined('w-authz');
    const r = await runCmd('curl', ['-s', '--cacert', cp.caFile, `${cp.url}/api/v1/namespaces/kube-system/configmaps/kubeadm-config`]);
    assert.match(r.stdout, /"code":403/);
    assert.match(r.stdout, /User \\"system:anonymous\\" cannot get resource \\"configmaps\\"/);
  });
});
