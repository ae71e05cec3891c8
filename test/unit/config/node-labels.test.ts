import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { nodeLabelProblems } from '../../../src/join/node-labels.js';
import { tempRoot } from '../../helpers/fakes.js';
import { ok, TOKEN } from '../../fixtures/config/corpus.js';

const { root, cleanup } = tempRoot('ja-labels-');
after(cleanup);

describe('node-labels the kubelet refuses (pure)', () => {
  it('accepts what the kubelet starts with', () => {
    for (const v of ['', 'team=a', 'team=a,,zone=b,', 'node.kubernetes.io/pool=gpu,kubelet.kubernetes.io/x=1,topology.kubernetes.io/zone=z', 'example.com/kubernetes.io=1', 'a = b', 'empty=']) {
      assert.deepEqual(nodeLabelProblems(v), [], v);
    }
  });
  it('names each refused label, each malformed pair, each bad key and value', () => {
    const p = nodeLabelProblems('node-role.kubernetes.io/worker=,team,foo.k8s.io/x=1,Bad.Prefix/x=1,ok=-bad-,node-restriction.kubernetes.io/pool=a');
    assert.equal(p.length, 6, p.join('\n'));
    assert.match(p[0], /label "node-role\.kubernetes\.io\/worker" is one a kubelet may not set on its own Node .*kubectl label node NAME node-role\.kubernetes\.io\/worker=`/);
    assert.match(p[1], /"team" is not key=value .*malformed pair/);
    assert.match(p[2], /"foo\.k8s\.io\/x" is one a kubelet may not set/);
    assert.match(p[3], /prefix "Bad\.Prefix" is not a DNS subdomain/);
    assert.match(p[4], /label "ok": the value "-bad-" must be empty or 1-63/);
    assert.match(p[5], /"node-restriction\.kubernetes\.io\/pool" is one a kubelet may not set/);
    // a blank pair is not skipped by the kubelet's flag parser (only an empty one is)
    assert.equal(nodeLabelProblems('a=b, ').length, 1);
    assert.match(nodeLabelProblems(`x=${'v'.repeat(64)}`)[0], /the value/);
    assert.match(nodeLabelProblems('a/b/c=1')[0], /more than one "\/"/);
  });
});

describe('node-labels as config errors (loadConfig)', () => {
  const load = async (name: string, yaml: string): Promise<string> => {
    const file = path.join(root, name);
    writeFileSync(file, yaml, { mode: 0o600 });
    const e = await loadConfig(file, { requireToken: true }).then(() => assert.fail('accepted'), (x: unknown) => x);
    assert.ok(e instanceof ConfigError, String(e));
    return e.message.replaceAll(`${file}:`, 'F:');
  };
  it('v1beta4: every refused label at its value line and path, with other problems, all at once', async () => {
    const msg = await load('v4.yaml', ok('host:\n  swap: nope\n', TOKEN, 'nodeRegistration:\n  kubeletExtraArgs:\n    - name: node-ip\n      value: 10.0.0.1\n    - name: node-labels\n      value: node-role.kubernetes.io/worker=,team=a,node-restriction.kubernetes.io/pool=x\n'));
    const lines = msg.split('\n');
    assert.equal(lines.length, 3, msg);
    assert.match(lines[0], /^F:5:9: host\.swap: /);
    assert.match(lines[1], /^F:19:14: nodeRegistration\.kubeletExtraArgs\[1\]\.value: label "node-role\.kubernetes\.io\/worker" is one a kubelet may not set/);
    assert.match(lines[2], /^F:19:14: nodeRegistration\.kubeletExtraArgs\[1\]\.value: label "node-restriction\.kubernetes\.io\/pool"/);
  });
  it('v1beta3: the map form', async () => {
    const msg = await load('v3.yaml', ok('', TOKEN, 'nodeRegistration:\n  kubeletExtraArgs:\n    node-labels: "k8s.io/x=1"\n').replace('kubeadm.k8s.io/v1beta4', 'kubeadm.k8s.io/v1beta3'));
    assert.match(msg, /^F:14:18: nodeRegistration\.kubeletExtraArgs\.node-labels: label "k8s\.io\/x" is one a kubelet may not set/);
  });
  it('allowed labels load', async () => {
    const file = path.join(root, 'good.yaml');
    writeFileSync(file, ok('', TOKEN, 'nodeRegistration:\n  kubeletExtraArgs:\n    - { name: node-labels, value: "node.kubernetes.io/pool=gpu,team=a" }\n'), { mode: 0o600 });
    const { config } = await loadConfig(file, { requireToken: true });
    assert.equal(config.join.kubeletExtraArgs[0].value, 'node.kubernetes.io/pool=gpu,team=a');
  });
});
