import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { makePki } from '../../fixtures/pki.js';
import { call } from './client.js';

// Client certificates as kube-apiserver's x509 authenticator judges them: one the cluster
// CA signed that has expired (a kubelet left off past its rotation), is not valid yet, or
// was signed by another CA is 401 Unauthorized, never anonymous; a valid one is its user.
const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
const DAY = 86_400_000;

describe('simulated control plane: client certificate validity', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ tokens: ['abcdef.0123456789abcdef'] });
  });
  after(() => cp.close());

  test('a valid kubelet certificate is system:node:<name>: it reads its own Node (404 until registered)', async () => {
    const r = await call(cp, 'GET', '/api/v1/nodes/w1', { cert: cp.issueClientCert('w1') });
    assert.equal(r.code, 404);
    assert.equal(cp.requests.at(-1)!.user, 'system:node:w1');
  });

  test('sabotage: the same kubelet with a certificate that expired yesterday is 401, not anonymous', async () => {
    const expired = cp.issueClientCert('w1', { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    assert.ok(Date.parse(new X509Certificate(expired.certPem).validTo) < Date.now(), 'the certificate has expired');
    assert.ok(new X509Certificate(expired.certPem).verify(new X509Certificate(cp.caPem).publicKey), 'and the cluster CA signed it');
    for (const p of ['/api/v1/nodes/w1', '/api/v1/namespaces/kube-public/configmaps/cluster-info', '/healthz']) {
      const r = await call(cp, 'GET', p, { cert: expired });
      assert.equal(r.code, 401, p);
      assert.deepEqual(r.body, UNAUTHORIZED);
    }
    assert.equal(cp.requests.at(-1)!.auth, 'cert');
  });

  test('sabotage: not valid yet, or signed by another CA: 401', async () => {
    const future = cp.issueClientCert('w1', { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) });
    assert.equal((await call(cp, 'GET', '/api/v1/nodes/w1', { cert: future })).code, 401);
    const other = makePki('another-cluster');
    assert.equal((await call(cp, 'GET', '/api/v1/nodes/w1', { cert: other.issue({ cn: 'system:node:w1', org: 'system:nodes', client: true }) })).code, 401);
  });

  test('an expired certificate with a valid bootstrap token on the same request: the token authenticates (union of authenticators)', async () => {
    const expired = cp.issueClientCert('w1', { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    const r = await call(cp, 'GET', '/api/v1/nodes/w1', { cert: expired, token: 'abcdef.0123456789abcdef' });
    assert.equal(r.code, 404, JSON.stringify(r.body));
    assert.equal(cp.requests.at(-1)!.user, 'system:bootstrap:abcdef');
  });
});
