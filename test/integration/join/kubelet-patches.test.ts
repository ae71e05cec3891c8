import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { agentEnv, runBinary, runCmd, STANDINS, stopKubelet, tempRoot, TOKEN, writeConfig } from './harness.js';

// kubelet: settings and an operator's patches directory through the built binary and
// the stand-in kubeadm, which applies kubeadm's patches to the kubelet config it writes.
const ONLY = ['--only', 'discovery,node-ip,join,join-cleanup,kubelet-config,node-ready'];
const KUBELET = 'kubelet:\n  maxPods: 42\n  systemReserved: { cpu: 500m, memory: 512Mi }\n  evictionHard: { memory.available: 100Mi }\n';

describe('kubelet settings as a kubeadm patch (built binary, stand-in kubeadm)', () => {
  let cp: ControlPlane;
  let t: ReturnType<typeof tempRoot>;
  before(async () => {
    cp = await startControlPlane({ port: 19736, tokens: [TOKEN] });
  });
  afterEach(async () => {
    stopKubelet(t.root);
    await runCmd(path.join(STANDINS, 'kubeadm'), ['reset', '--force'], agentEnv(t.root));
    t.cleanup();
  });
  after(() => cp.close());

  test('kubeadm applies joinagent\'s patch and the operator\'s json patch; kubelet reports maxPods; kubelet-config finds nothing to correct', async () => {
    t = tempRoot();
    const userDir = path.join(t.root, 'site-patches');
    mkdirSync(userDir);
    writeFileSync(path.join(userDir, 'kubeletconfiguration+json.yaml'), '- op: add\n  path: /serializeImagePulls\n  value: false\n');
    const cfg = writeConfig(t.root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash], joinExtra: `nodeRegistration:\n  name: w-patch\npatches:\n  directory: ${userDir}\n` });
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('kubernetesVersion: v1.32.11\n', `kubernetesVersion: v1.32.11\n${KUBELET}`));
    const r = await runBinary(['run', '--once', '--config', cfg, '--root', t.root, '--log-format', 'json', ...ONLY], agentEnv(t.root));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const config = parse(readFileSync(path.join(t.root, 'var/lib/kubelet/config.yaml'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.maxPods, 42);
    assert.deepEqual(config.systemReserved, { cpu: '500m', memory: '512Mi' });
    assert.deepEqual(config.evictionHard, { 'memory.available': '100Mi' });
    assert.equal(config.serializeImagePulls, false, 'the operator\'s own patch file reached kubelet\'s config too');
    assert.equal(config.cgroupDriver, 'systemd', 'kubeadm\'s own values kept');
    assert.deepEqual(readFileSync(path.join(t.root, 'var/lib/joinagent/patches/kubeletconfiguration+json.yaml'), 'utf8'), readFileSync(path.join(userDir, 'kubeletconfiguration+json.yaml'), 'utf8'));
    const node = cp.nodes.get('w-patch') as unknown as { status: { capacity?: { pods?: string } } };
    assert.equal(node.status.capacity?.pods, '42', 'the kubelet read maxPods from its config');
    const ends = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('"event":"step-end"')).map((l) => JSON.parse(l) as { step: string; state: string });
    assert.equal(ends.find((e) => e.step === 'kubelet-config')?.state, 'ok', 'kubeadm had applied the settings: nothing for kubelet-config to correct');
  });

  test('sabotage: the stand-in kubeadm fails the join on a patch type kubeadm does not know, with kubeadm\'s words', async () => {
    t = tempRoot();
    const dir = path.join(t.root, 'bad');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'kubeletconfiguration+mrege.yaml'), 'maxPods: 1\n');
    const k = path.join(t.root, 'kubeadm.yaml');
    writeFileSync(k, `apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: "${cp.endpoint}"\n    token: "${TOKEN}"\n    caCertHashes: ["${cp.caHash}"]\nnodeRegistration:\n  name: w-bad\npatches:\n  directory: ${dir}\n`);
    const r = await runCmd(path.join(STANDINS, 'kubeadm'), ['join', '--config', k], agentEnv(t.root));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error execution phase kubelet-start: could not list patch files for path ".*bad": unknown or missing patch type after '\+', must be one of \[json merge strategic\]/);
  });
});
