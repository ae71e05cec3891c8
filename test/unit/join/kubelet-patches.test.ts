import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { inspectPatches, overlaps, parsePatchFileName, renderKubeletPatch } from '../../../src/join/kubeadm-patches.js';
import { kubeletSettingDiffs, mergeKubeletSettings } from '../../../src/join/kubelet-settings.js';

describe("kubeadm's patch file names (v1.32 util/patches)", () => {
  const table: [string, string][] = [
    ['kubeletconfiguration.yaml', 'patch kubeletconfiguration strategic'],
    ['kubeletconfiguration+merge.yaml', 'patch kubeletconfiguration merge'],
    ['kubeletconfiguration0-maxpods+json.json', 'patch kubeletconfiguration json'],
    ['kube-apiserver+strategic.json', 'patch kube-apiserver strategic'],
    ['kubeletconfiguration+merge.yml', 'ignored the file extension must be one of [json yaml] (kubeadm ignores it)'],
    ['kubelet.yaml', 'ignored unknown target, must be one of [etcd kube-apiserver kube-controller-manager kube-scheduler kubeletconfiguration corednsdeployment] (kubeadm ignores it)'],
    ['kubeletconfiguration+mrege.yaml', "error unknown or missing patch type after '+', must be one of [json merge strategic] (kubeadm fails the join)"],
  ];
  for (const [name, want] of table) {
    it(name, () => {
      const v = parsePatchFileName(name);
      assert.equal(v.kind === 'patch' ? `patch ${v.target} ${v.type}` : `${v.kind} ${v.reason}`, want);
    });
  }
});

describe('the operator\'s patches directory', () => {
  it('what kubeadm reads, ignores and fails on; the keys each kubelet patch sets', () => {
    const r = inspectPatches([
      { rel: 'kubeletconfiguration+json.yaml', text: '- op: replace\n  path: /serializeImagePulls\n  value: false\n' },
      { rel: 'sub/kubeletconfiguration1.yaml', text: 'maxPods: 90\n---\nfeatureGates:\n  NodeSwap: true\n' },
      { rel: 'kube-apiserver.yaml', text: 'spec: {}\n' },
      { rel: 'kubeletconfiguration-empty.yaml', text: '' },
      { rel: 'kubeletconfiguration-bad+json.yaml', text: 'maxPods: 1\n' },
      { rel: 'README.md', text: 'notes' },
    ]);
    assert.deepEqual(r.used, ['kubeletconfiguration+json.yaml', 'sub/kubeletconfiguration1.yaml']);
    assert.deepEqual([...r.keys], [['kubeletconfiguration+json.yaml', ['serializeImagePulls']], ['sub/kubeletconfiguration1.yaml', ['maxPods', 'featureGates']]]);
    assert.deepEqual(r.problems.map((p) => `${p.severity} ${p.rel}`), ['warning README.md', 'warning kube-apiserver.yaml', 'error kubeletconfiguration-bad+json.yaml', 'warning kubeletconfiguration-empty.yaml']);
    assert.deepEqual(overlaps({ maxPods: 42, failSwapOn: false }, r.keys), [{ rel: 'sub/kubeletconfiguration1.yaml', key: 'maxPods' }]);
  });
  it('the kubelet: section as a merge patch', () => {
    const text = renderKubeletPatch({ maxPods: 42, systemReserved: { cpu: '500m', memory: '512Mi' }, cgroupDriver: 'systemd' }, '/etc/joinagent/config.yaml');
    assert.match(text, /^# Written by joinagent from kubelet: in \/etc\/joinagent\/config\.yaml/);
    assert.deepEqual(parse(text), { maxPods: 42, systemReserved: { cpu: '500m', memory: '512Mi' }, cgroupDriver: 'systemd' });
  });
});

describe('kubelet settings against config.yaml', () => {
  const CONFIG = '# kubeadm wrote this\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nmaxPods: 42\nsystemReserved:\n  memory: 512Mi\n';
  it('equal settings: no difference; changed or missing: named with live and wanted', () => {
    assert.deepEqual(kubeletSettingDiffs(CONFIG, { maxPods: 42, cgroupDriver: 'systemd', systemReserved: { memory: '512Mi' } }), []);
    assert.deepEqual(kubeletSettingDiffs(CONFIG, { maxPods: 50, failSwapOn: false, systemReserved: { cpu: '500m', memory: '512Mi' } }), [
      { key: 'maxPods', live: '42', wanted: '50' },
      { key: 'failSwapOn', live: 'absent', wanted: 'false' },
      { key: 'systemReserved.cpu', live: 'absent', wanted: '500m' },
    ]);
  });
  it('merged back as the merge patch would: maps key by key, comments and other keys kept', () => {
    const out = mergeKubeletSettings(CONFIG, { maxPods: 50, systemReserved: { cpu: '500m' }, evictionHard: { 'memory.available': '100Mi' } });
    assert.match(out, /^# kubeadm wrote this\napiVersion: kubelet\.config\.k8s\.io\/v1beta1\n/);
    assert.deepEqual(parse(out), { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', cgroupDriver: 'systemd', maxPods: 50, systemReserved: { memory: '512Mi', cpu: '500m' }, evictionHard: { 'memory.available': '100Mi' } });
    assert.deepEqual(kubeletSettingDiffs(out, { maxPods: 50, systemReserved: { cpu: '500m' } }), []);
  });
});
