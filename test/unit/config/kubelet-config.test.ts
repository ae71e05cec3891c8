import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { tempRoot } from '../../helpers/fakes.js';
import { ok, TOKEN } from '../../fixtures/config/corpus.js';

// kubelet: and patches.directory at load: accepted values, and the operator's patch files
// as kubeadm would read them, each problem named at patches.directory with its file.
const { root, cleanup } = tempRoot('ja-config-kubelet-');
after(cleanup);
const dir = path.join(root, 'patches');
mkdirSync(path.join(dir, 'sub'), { recursive: true });
writeFileSync(path.join(dir, 'kubeletconfiguration+json.yaml'), '- op: add\n  path: /serializeImagePulls\n  value: false\n');
writeFileSync(path.join(dir, 'sub', 'kubeletconfiguration+merge.yml'), 'maxPods: 1\n');
writeFileSync(path.join(dir, 'etcd.yaml'), 'spec: {}\n');
const write = (name: string, text: string): string => {
  const f = path.join(root, name);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
};
const KUBELET = 'kubelet:\n  cgroupDriver: systemd\n  maxPods: 42\n  failSwapOn: true\n  systemReserved: { cpu: 500m, memory: 512Mi, pid: "1000" }\n  kubeReserved: { memory: 256Mi }\n  evictionHard: { memory.available: 100Mi, nodefs.available: 10% }\n';

describe('config: kubelet settings and kubeadm patches', () => {
  it('accepts the common settings and an operator\'s patches directory; warns about what kubeadm ignores there', async () => {
    const { config, warnings } = await loadConfig(write('ok.yaml', ok(KUBELET, TOKEN, `patches:\n  directory: ${dir}\n`)));
    assert.deepEqual(config.agent.kubelet, { cgroupDriver: 'systemd', maxPods: 42, failSwapOn: true, systemReserved: { cpu: '500m', memory: '512Mi', pid: '1000' }, kubeReserved: { memory: '256Mi' }, evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10%' } });
    assert.equal(config.join.patchesDir, dir);
    const text = warnings.map((w) => `${w.path}: ${w.message}`).join('\n');
    assert.match(text, new RegExp(`patches\\.directory: ${dir}/etcd\\.yaml: a etcd patch: a worker join does not use it`));
    assert.match(text, new RegExp(`patches\\.directory: ${dir}/sub/kubeletconfiguration\\+merge\\.yml: the file extension must be one of \\[json yaml\\] \\(kubeadm ignores it\\)`));
  });
  it('a field set in kubelet: and in a patch file is refused', async () => {
    writeFileSync(path.join(dir, 'kubeletconfiguration-pods.yaml'), 'maxPods: 90\n');
    try {
      const e = await loadConfig(write('both.yaml', ok(KUBELET, TOKEN, `patches:\n  directory: ${dir}\n`))).then(() => undefined, (x: unknown) => x);
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, new RegExp(`:\\d+:\\d+: patches\\.directory: ${dir}/kubeletconfiguration-pods\\.yaml sets maxPods, which kubelet\\.maxPods sets too: keep one`));
    } finally {
      writeFileSync(path.join(dir, 'kubeletconfiguration-pods.yaml'), '');
    }
  });
});
