import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cli } from '../helpers/binary.js';
import { treeHash } from '../helpers/tree-hash.js';

// node-labels the kubelet would refuse at its first start are config errors: the built
// binary reports them, with the config's other problems, for validate and for every
// command that loads the config, before anything runs.
const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-labels-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (labels: string, swap = 'disable'): string => `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: v1.32.11
host:
  swap: ${swap}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    token: abcdef.0123456789abcdef
    apiServerEndpoint: 192.0.2.10:6443
    caCertHashes: ["sha256:${'a'.repeat(64)}"]
nodeRegistration:
  kubeletExtraArgs:
    - name: node-ip
      value: 192.0.2.21
    - name: node-labels
      value: "${labels}"
`;

describe('validate: node-labels the kubelet refuses (built binary)', () => {
  it('every problem with file:line:col and field path, exit 2, no stack trace, for every command, nothing changed', () => {
    const bad = path.join(dir, 'labels.yaml');
    writeFileSync(bad, config('node-role.kubernetes.io/worker=,team=a,node-restriction.kubernetes.io/pool=x,foo.k8s.io/b=1', 'sometimes'), { mode: 0o600 });
    const root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    const before = treeHash(dir);
    for (const cmd of [['validate'], ['run', '--once'], ['plan'], ['prepare']]) {
      const r = cli([...cmd, '--config', bad, '--root', root]);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      const lines = r.stderr.trim().split('\n');
      const want = [
        /labels\.yaml:5:9: host\.swap: "sometimes" is not one of/,
        /labels\.yaml:19:14: nodeRegistration\.kubeletExtraArgs\[1\]\.value: label "node-role\.kubernetes\.io\/worker" is one a kubelet may not set on its own Node .*kubectl label node NAME node-role\.kubernetes\.io\/worker=`/,
        /labels\.yaml:19:14: nodeRegistration\.kubeletExtraArgs\[1\]\.value: label "node-restriction\.kubernetes\.io\/pool"/,
        /labels\.yaml:19:14: nodeRegistration\.kubeletExtraArgs\[1\]\.value: label "foo\.k8s\.io\/b"/,
      ];
      for (const w of want) assert.ok(lines.some((l) => w.test(l)), `${cmd}: ${w} in\n${r.stderr}`);
      assert.ok(!lines.some((l) => l.includes('"team"')), 'an allowed label is not reported');
      assert.match(lines.at(-1)!, /4 problems; nothing was changed/);
      assert.doesNotMatch(r.stdout + r.stderr, /0123456789abcdef/, 'token secret never shown');
    }
    assert.equal(treeHash(dir), before, 'nothing written anywhere');
  });

  it('sabotage: labels the kubelet accepts validate (the check is not a blanket refusal)', () => {
    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, config('node.kubernetes.io/pool=gpu,team=a,topology.kubernetes.io/zone=z1'), { mode: 0o600 });
    const r = cli(['validate', '--config', good]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid \(Kubernetes v1\.32\.11/);
  });
});
