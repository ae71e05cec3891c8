import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { call, sleep, type Creds } from './client.js';

// The node authorizer (v1.32, AuthorizeNodeWithSelectors) and NodeRestriction: what a
// kubelet's client certificate may do to Nodes, and the 403s it gets otherwise, with the
// API server's messages.
const SMP = 'application/strategic-merge-patch+json';
const node = (name: string, labels: Record<string, string> = {}): unknown => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });

describe('simulated control plane: node authorizer and NodeRestriction', () => {
  let cp: ControlPlane;
  let w1: Creds;
  let w2: Creds;
  let admin: Creds;
  before(async () => {
    cp = await startControlPlane({ controllerDelayMs: 50 });
    w1 = { cert: cp.issueClientCert('w1') };
    w2 = { cert: cp.issueClientCert('w2') };
    admin = { cert: cp.issueAdminCert() };
    assert.equal((await call(cp, 'POST', '/api/v1/nodes', w1, node('w1'))).code, 201);
    assert.equal((await call(cp, 'POST', '/api/v1/nodes', w2, node('w2'))).code, 201);
  });
  after(() => cp.close());

  test('a kubelet reads, patches and updates the status of its own Node', async () => {
    assert.equal((await call(cp, 'GET', '/api/v1/nodes/w1', w1)).code, 200);
    const p = await call(cp, 'PATCH', '/api/v1/nodes/w1/status', w1, { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] } }, SMP);
    assert.equal(p.code, 200, JSON.stringify(p.body));
    const conds = (p.body.status as { conditions: { type: string; status: string }[] }).conditions;
    assert.deepEqual(conds.map((c) => `${c.type}=${c.status}`), ['Ready=False'], 'merged by type, not appended');
    const l = await call(cp, 'PATCH', '/api/v1/nodes/w1', w1, { metadata: { labels: { 'example.com/rack': 'r1', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } } }, SMP);
    assert.equal(l.code, 200, JSON.stringify(l.body));
  });

  test('sabotage: writing another Node is 403 (NodeRestriction)', async () => {
    for (const [method, p, body] of [
      ['PATCH', '/api/v1/nodes/w2/status', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }],
      ['PATCH', '/api/v1/nodes/w2', { metadata: { labels: { a: 'b' } } }],
      ['POST', '/api/v1/nodes', node('w3')],
    ] as [string, string, unknown][]) {
      const r = await call(cp, method, p, w1, body, method === 'PATCH' ? SMP : 'application/json');
      const target = p.endsWith('/nodes') ? 'w3' : 'w2';
      assert.equal(r.code, 403, `${method} ${p}`);
      assert.deepEqual(r.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `nodes "${target}" is forbidden: node "w1" is not allowed to modify node "${target}"`, reason: 'Forbidden', details: { name: target, kind: 'nodes' }, code: 403 });
    }
    assert.equal(((await call(cp, 'GET', '/api/v1/nodes/w2', admin)).body.status as { conditions: { status: string }[] }).conditions[0].status, 'True', 'w2 unchanged');
  });

  test('sabotage: a kubelet reads neither another Node nor the Node list (AuthorizeNodeWithSelectors)', async () => {
    const one = await call(cp, 'GET', '/api/v1/nodes/w2', w1);
    assert.equal(one.code, 403);
    assert.equal(one.body.message, `nodes "w2" is forbidden: User "system:node:w1" cannot get resource "nodes" in API group "" at the cluster scope: node 'w1' cannot read 'w2', only its own Node object`);
    const all = await call(cp, 'GET', '/api/v1/nodes', w1);
    assert.equal(all.code, 403);
    assert.equal(all.body.message, `nodes is forbidden: User "system:node:w1" cannot list resource "nodes" in API group "" at the cluster scope: node 'w1' cannot read all nodes, only its own Node object`);
    const byName = await call(cp, 'GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dw1', w1);
    assert.equal(byName.code, 200, 'a list narrowed to its own name is a read of its own Node');
    assert.equal((await call(cp, 'GET', '/api/v1/nodes', admin)).code, 200, 'the administrator lists them');
  });

  test('sabotage: a kubelet may not set node-role or node-restriction labels, nor change its taints, nor delete its Node', async () => {
    const role = await call(cp, 'PATCH', '/api/v1/nodes/w1', w1, { metadata: { labels: { 'node-role.kubernetes.io/control-plane': '' } } }, SMP);
    assert.equal(role.code, 403);
    assert.equal(role.body.message, 'nodes "w1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane');
    const nr = await call(cp, 'PATCH', '/api/v1/nodes/w1', w1, { metadata: { labels: { 'node-restriction.kubernetes.io/secure': 'true' } } }, SMP);
    assert.equal(nr.body.message, 'nodes "w1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/secure');
    const taint = await call(cp, 'PATCH', '/api/v1/nodes/w1', w1, { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } }, SMP);
    assert.equal(taint.body.message, 'nodes "w1" is forbidden: node "w1" is not allowed to modify taints');
    const del = await call(cp, 'DELETE', '/api/v1/nodes/w1', w1);
    assert.equal(del.code, 403);
    assert.match(String(del.body.message), /User "system:node:w1" cannot delete resource "nodes"/);
    // an administrator may label it
    assert.equal((await call(cp, 'PATCH', '/api/v1/nodes/w1', admin, { metadata: { labels: { 'node-role.kubernetes.io/worker': '' } } }, SMP)).code, 200);
  });

  test('sabotage: registering with a node-restriction label is refused at create', async () => {
    const w4: Creds = { cert: cp.issueClientCert('w4') };
    const r = await call(cp, 'POST', '/api/v1/nodes', w4, node('w4', { 'node-restriction.kubernetes.io/pool': 'gpu', 'kubernetes.io/os': 'linux' }));
    assert.equal(r.code, 403);
    assert.equal(r.body.message, 'nodes "w4" is forbidden: node "w4" is not allowed to set the following labels: node-restriction.kubernetes.io/pool');
  });

  test('a PATCH as plain application/json is 415, as the API server answers', async () => {
    const r = await call(cp, 'PATCH', '/api/v1/nodes/w1/status', w1, { status: {} }, 'application/json');
    assert.equal(r.code, 415);
    assert.equal(r.body.reason, 'UnsupportedMediaType');
  });

  test('node-ipam: podCIDR assigned after the create response, never changed', async () => {
    const w5: Creds = { cert: cp.issueClientCert('w5') };
    const created = await call(cp, 'POST', '/api/v1/nodes', w5, node('w5'));
    assert.equal((created.body.spec as { podCIDR?: string }).podCIDR, undefined, 'not in the create response');
    let spec: { podCIDR?: string; podCIDRs?: string[] } = {};
    for (let i = 0; i < 100 && !spec.podCIDR; i++) {
      await sleep(20);
      spec = (await call(cp, 'GET', '/api/v1/nodes/w5', w5)).body.spec as typeof spec;
    }
    assert.match(spec.podCIDR ?? '', /^10\.244\.\d+\.0\/24$/);
    assert.deepEqual(spec.podCIDRs, [spec.podCIDR]);
    const others = await Promise.all(['w1', 'w2'].map(async (n) => ((await call(cp, 'GET', `/api/v1/nodes/${n}`, admin)).body.spec as { podCIDR: string }).podCIDR));
    assert.equal(new Set([...others, spec.podCIDR]).size, 3, 'each node its own block');
    const change = await call(cp, 'PATCH', '/api/v1/nodes/w5', admin, { spec: { podCIDR: '10.244.200.0/24', podCIDRs: ['10.244.200.0/24'] } }, SMP);
    assert.equal(change.code, 422);
    assert.match(String(change.body.message), /node updates may not change podCIDR except from "" to valid/);
  });
});
