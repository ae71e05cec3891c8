import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { bootstrapTokenSecret } from '../../fixtures/controlplane/token-secret.js';
import { call, csrBody, makeCsr } from './client.js';

// Bootstrap-token authentication against the token's Secret, as kube-apiserver does it:
// sabotaged Secrets (expired, without the authentication usage, another type, a wrong
// secret) make the token 401 Unauthorized, with the API server's Status body.
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

describe('simulated control plane: bootstrap-token authentication', () => {
  let cp: ControlPlane;
  const put = (token: string, o: Parameters<typeof bootstrapTokenSecret>[1] = {}, edit: (s: ReturnType<typeof bootstrapTokenSecret>) => void = () => {}): void => {
    const s = bootstrapTokenSecret(token, o);
    edit(s);
    cp.secrets.set(`kube-system/${s.metadata.name}`, s);
  };
  const csr = (token: string) => call(cp, 'POST', CSRS, { token }, csrBody(makeCsr({ cn: 'system:node:w1', o: ['system:nodes'] })));
  before(async () => {
    cp = await startControlPlane({ tokens: ['abcdef.0123456789abcdef'] });
  });
  after(() => cp.close());

  test('a valid token is user system:bootstrap:<id> in system:bootstrappers and its extra groups', async () => {
    const r = await csr('abcdef.0123456789abcdef');
    assert.equal(r.code, 201);
    const spec = r.body.spec as { username: string; groups: string[] };
    assert.equal(spec.username, 'system:bootstrap:abcdef');
    assert.deepEqual(spec.groups, ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated']);
  });

  test('sabotage: an expired token is 401', async () => {
    put('expird.0123456789abcdef', { expiration: new Date(Date.now() - 60_000).toISOString() });
    const r = await csr('expird.0123456789abcdef');
    assert.equal(r.code, 401);
    assert.deepEqual(r.body, UNAUTHORIZED);
    // its Node reads too: the token is not a user any more
    assert.equal((await call(cp, 'GET', '/api/v1/nodes/w1', { token: 'expird.0123456789abcdef' })).code, 401);
  });

  test('a token whose expiration is still ahead works; an unparsable expiration counts as expired', async () => {
    put('future.0123456789abcdef', { expiration: new Date(Date.now() + 3_600_000).toISOString() });
    assert.equal((await csr('future.0123456789abcdef')).code, 201);
    put('garbld.0123456789abcdef', { expiration: 'tomorrow' });
    assert.equal((await csr('garbld.0123456789abcdef')).code, 401);
  });

  test('sabotage: a token without usage-bootstrap-authentication (signing only) is 401', async () => {
    put('signin.0123456789abcdef', { usages: ['signing'] });
    assert.equal((await csr('signin.0123456789abcdef')).code, 401);
  });

  test('sabotage: wrong secret, unknown id, wrong Secret type, deleted Secret, bad extra group: 401', async () => {
    assert.equal((await csr('abcdef.ffffffffffffffff')).code, 401);
    assert.equal((await csr('nosuch.0123456789abcdef')).code, 401);
    put('opaque.0123456789abcdef', {}, (s) => (s.type = 'Opaque'));
    assert.equal((await csr('opaque.0123456789abcdef')).code, 401);
    put('delete.0123456789abcdef', {}, (s) => (s.metadata.deletionTimestamp = new Date().toISOString()));
    assert.equal((await csr('delete.0123456789abcdef')).code, 401);
    put('badgrp.0123456789abcdef', { groups: ['system:masters'] });
    assert.equal((await csr('badgrp.0123456789abcdef')).code, 401);
    assert.equal((await csr('not-a-bootstrap-token')).code, 401);
  });

  test('a token outside kubeadm\'s default-node-token group authenticates but may not create CSRs (RBAC)', async () => {
    put('othgrp.0123456789abcdef', { groups: ['system:bootstrappers:other'] });
    const r = await csr('othgrp.0123456789abcdef');
    assert.equal(r.code, 403);
    assert.match(String(r.body.message), /User "system:bootstrap:othgrp" cannot create resource "certificatesigningrequests"/);
  });

  test('no credentials is system:anonymous: cluster-info yes, nodes no', async () => {
    assert.equal((await call(cp, 'GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info')).code, 200);
    const r = await call(cp, 'GET', '/api/v1/nodes');
    assert.equal(r.code, 403);
    assert.equal(r.body.message, 'nodes is forbidden: User "system:anonymous" cannot list resource "nodes" in API group "" at the cluster scope');
  });
});
