import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { needs, onPath } from '../../helpers/needs.js';

// The simulated control plane's Pod API (test/fixtures/controlplane/pods.ts): kube-proxy's
// DaemonSet pod appears bound to a Node when it registers; a kubelet lists its pods by
// fieldSelector, reads and patches only its own (node authorizer, NodeRestriction); and a
// real kubectl reads the result.
let cp: ControlPlane;
type Client = { certPem: string; keyPem: string };
const call = (c: Client, method: string, p: string, body?: unknown): Promise<{ code: number; json: Record<string, unknown> }> =>
  new Promise((resolve, reject) => {
    const req = https.request(`${cp.url}${p}`, { method, ca: cp.caPem, cert: c.certPem, key: c.keyPem, headers: { 'content-type': 'application/merge-patch+json' } }, (res) => {
      let s = '';
      res.on('data', (d: Buffer) => (s += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, json: JSON.parse(s) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });

describe('Pod API of the simulated control plane', () => {
  let w1: Client;
  let w2: Client;
  before(async () => {
    cp = await startControlPlane({ tokens: [] });
    w1 = cp.issueClientCert('w1');
    w2 = cp.issueClientCert('w2');
    for (const [c, n] of [[w1, 'w1'], [w2, 'w2']] as const) assert.equal((await call(c, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n }, status: {} })).code, 201);
  });
  after(() => cp.close());

  test('each registered Node gets one kube-proxy pod from the DaemonSet, bound to it', async () => {
    const r = await call(w1, 'GET', `/api/v1/pods?fieldSelector=${encodeURIComponent('spec.nodeName=w1')}`);
    assert.equal(r.code, 200);
    assert.equal(r.json.kind, 'PodList');
    const items = r.json.items as { metadata: { name: string; namespace: string; ownerReferences: { kind: string }[] }; spec: { nodeName: string; containers: { image: string }[] }; status: { phase: string } }[];
    assert.equal(items.length, 1);
    assert.match(items[0].metadata.name, /^kube-proxy-[a-z0-9]{5}$/);
    assert.equal(items[0].metadata.namespace, 'kube-system');
    assert.equal(items[0].metadata.ownerReferences[0].kind, 'DaemonSet');
    assert.equal(items[0].spec.nodeName, 'w1');
    assert.equal(items[0].spec.containers[0].image, 'registry.k8s.io/kube-proxy:v1.32.11');
    assert.equal(items[0].status.phase, 'Pending');
    // authorization comes first: to a kubelet a misspelt selector is a list of every pod (403)
    const denied = await call(w1, 'GET', '/api/v1/pods?fieldSelector=spec.nodeNme%3Dw1');
    assert.equal(denied.code, 403);
    assert.match(String(denied.json.message), /can only list\/watch pods with spec.nodeName field selector/);
    // an administrator gets the API server's answer to the selector itself
    const bad = await call(cp.issueAdminCert(), 'GET', '/api/v1/pods?fieldSelector=spec.nodeNme%3Dw1');
    assert.equal(bad.code, 400);
    assert.equal(bad.json.kind, 'Status');
  });

  test('a kubelet patches its own pod\'s status; another node can neither read nor patch it', async () => {
    const list = await call(w1, 'GET', '/api/v1/namespaces/kube-system/pods?fieldSelector=spec.nodeName%3Dw1');
    const name = (list.json.items as { metadata: { name: string } }[])[0].metadata.name;
    const status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'kube-proxy', ready: true, restartCount: 0, state: { running: { startedAt: '2026-12-02T12:00:00Z' } } }] };
    const p = await call(w1, 'PATCH', `/api/v1/namespaces/kube-system/pods/${name}/status`, { status });
    assert.equal(p.code, 200);
    assert.equal((p.json.status as { phase: string }).phase, 'Running');
    const other = await call(w2, 'PATCH', `/api/v1/namespaces/kube-system/pods/${name}/status`, { status: { phase: 'Failed' } });
    assert.equal(other.code, 403);
    assert.match(String(other.json.message), /User "system:node:w2" cannot patch resource "pods\/status".*no relationship found between node 'w2' and this object/);
    assert.equal((await call(w2, 'GET', `/api/v1/namespaces/kube-system/pods/${name}`)).code, 403);
    const got = await call(w1, 'GET', `/api/v1/namespaces/kube-system/pods/${name}`);
    assert.equal(got.json.kind, 'Pod');
    assert.equal((got.json.status as { phase: string }).phase, 'Running');
  });

  test('a real kubectl lists the pods bound to a node', needs(onPath('kubectl'), 'kubectl is not installed'), async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ja-kubectl-'));
    try {
      const admin = cp.issueAdminCert(); // admin.conf's identity (a node may list only its own pods)
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      const kc = path.join(dir, 'admin.conf');
      writeFileSync(kc, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${cp.url}\n    certificate-authority-data: ${b64(cp.caPem)}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user:\n    client-certificate-data: ${b64(admin.certPem)}\n    client-key-data: ${b64(admin.keyPem)}\n`);
      // asynchronously: the control plane answers from this same process
      const r = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile('kubectl', ['--kubeconfig', kc, '-n', 'kube-system', 'get', 'pods', '--field-selector', 'spec.nodeName=w1', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase}{"\\n"}{end}'], { env: { ...process.env, HOME: dir }, timeout: 60_000 }, (e, stdout, stderr) => resolve({ status: e ? Number(e.code ?? 1) : 0, stdout, stderr }));
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout.trim(), /^kube-proxy-[a-z0-9]{5} w1 Running$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
