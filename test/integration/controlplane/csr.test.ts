import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { call, csrBody, makeCsr, sleep, type Answer, type Creds } from './client.js';

// The CSR API and the csrapproving/csrsigning controllers: what a kubelet's TLS bootstrap
// gets, and the sabotage cases the real controllers leave Pending, deny or fail.
const TOKEN = 'abcdef.0123456789abcdef';
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
type Csr = { metadata: { name: string }; spec: { username: string; groups: string[] }; status: { certificate?: string; conditions?: { type: string; reason: string; message: string }[] } };

describe('simulated control plane: CertificateSigningRequests', () => {
  let cp: ControlPlane;
  const token: Creds = { token: TOKEN };
  before(async () => {
    cp = await startControlPlane({ tokens: [TOKEN], controllerDelayMs: 50 });
  });
  after(() => cp.close());

  const create = async (body: unknown, creds: Creds = token): Promise<Answer> => call(cp, 'POST', CSRS, creds, body);
  const read = async (name: string): Promise<Csr> => (await call(cp, 'GET', `${CSRS}/${name}`, token)).body as unknown as Csr;
  // long enough for the controllers to have acted many times over
  const settle = async (name: string): Promise<Csr> => {
    for (let i = 0; i < 100; i++) {
      const c = await read(name);
      if (c.status.certificate || c.status.conditions?.some((x) => x.type === 'Denied' || x.type === 'Failed')) return c;
      await sleep(50);
    }
    return read(name);
  };
  const pendingAfterAWhile = async (name: string): Promise<void> => {
    await sleep(800);
    const c = await read(name);
    assert.equal(c.status.certificate, undefined, `${name} was signed`);
    assert.deepEqual(c.status.conditions ?? [], [], `${name} got conditions: ${JSON.stringify(c.status.conditions)}`);
  };

  test('a kubelet client CSR from a bootstrap token: Pending at create, then approved and signed', async () => {
    const slow = await startControlPlane({ tokens: [TOKEN], controllerDelayMs: 400 });
    try {
      const r = await call(slow, 'POST', CSRS, token, csrBody(makeCsr({ cn: 'system:node:w1', o: ['system:nodes'] })));
      assert.equal(r.code, 201, JSON.stringify(r.body));
      const c = r.body as unknown as Csr;
      assert.match(c.metadata.name, /^csr-[a-z0-9]{5}$/);
      assert.equal(c.status.certificate, undefined, 'the certificate is not in the create response');
      assert.equal(c.spec.username, 'system:bootstrap:abcdef');
      assert.deepEqual(c.spec.groups, ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated']);
    } finally {
      await slow.close();
    }
    const name = ((await create(csrBody(makeCsr({ cn: 'system:node:w1', o: ['system:nodes'] })))).body as unknown as Csr).metadata.name;
    const done = await settle(name);
    const approved = done.status.conditions?.find((x) => x.type === 'Approved');
    assert.equal(approved?.reason, 'AutoApproved');
    assert.equal(approved?.message, 'Auto approving kubelet client certificate after SubjectAccessReview.');
    const cert = new X509Certificate(Buffer.from(done.status.certificate ?? '', 'base64'));
    assert.match(cert.subject, /O=system:nodes/);
    assert.match(cert.subject, /CN=system:node:w1/);
    assert.ok(cert.verify(new X509Certificate(cp.caPem).publicKey), 'signed by the cluster CA');
    assert.ok(cert.checkIssued(new X509Certificate(cp.caPem)));
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'client auth only');
  });

  test('key encipherment with an RSA key is a kubelet client CSR too', async () => {
    const r = await create(csrBody(makeCsr({ cn: 'system:node:w-rsa', o: ['system:nodes'], key: 'rsa' }), undefined, ['digital signature', 'key encipherment', 'client auth']));
    assert.equal(r.code, 201);
    assert.ok((await settle((r.body as unknown as Csr).metadata.name)).status.certificate);
  });

  for (const [what, pem, signer, usages] of [
    ['subject O is not system:nodes', makeCsr({ cn: 'system:node:w1', o: ['system:masters'] }), undefined, undefined],
    ['a second organization', makeCsr({ cn: 'system:node:w1', o: ['system:nodes', 'system:masters'] }), undefined, undefined],
    ['CN without system:node:', makeCsr({ cn: 'w1', o: ['system:nodes'] }), undefined, undefined],
    ['a DNS SAN', makeCsr({ cn: 'system:node:w1', o: ['system:nodes'], sans: 'DNS:w1.example' }), undefined, undefined],
    ['an IP SAN', makeCsr({ cn: 'system:node:w1', o: ['system:nodes'], sans: 'IP:10.0.0.1' }), undefined, undefined],
    ['server auth among the usages', makeCsr({ cn: 'system:node:w1', o: ['system:nodes'] }), undefined, ['digital signature', 'client auth', 'server auth']],
    ['client auth missing', makeCsr({ cn: 'system:node:w1', o: ['system:nodes'] }), undefined, ['digital signature']],
    ['signer kube-apiserver-client', makeCsr({ cn: 'system:node:w1', o: ['system:nodes'] }), 'kubernetes.io/kube-apiserver-client', undefined],
    ['signer kubelet-serving (waits for an administrator)', makeCsr({ cn: 'system:node:w1', o: ['system:nodes'], sans: 'DNS:w1' }), 'kubernetes.io/kubelet-serving', ['digital signature', 'server auth']],
  ] as [string, string, string | undefined, string[] | undefined][]) {
    test(`sabotage: ${what}: accepted by the API, left Pending by the approver`, async () => {
      const r = await create(csrBody(pem, signer, usages));
      assert.equal(r.code, 201, JSON.stringify(r.body));
      await pendingAfterAWhile((r.body as unknown as Csr).metadata.name);
    });
  }

  test('a kubelet-serving CSR is signed once an administrator approves it', async () => {
    const r = await create(csrBody(makeCsr({ cn: 'system:node:w1', o: ['system:nodes'], sans: 'DNS:w1,IP:198.18.0.2' }), 'kubernetes.io/kubelet-serving', ['digital signature', 'server auth']));
    const name = (r.body as unknown as Csr).metadata.name;
    await pendingAfterAWhile(name);
    cp.approveCsr(name);
    const done = await settle(name);
    assert.equal(done.status.conditions?.[0].reason, 'KubectlApprove');
    const cert = new X509Certificate(Buffer.from(done.status.certificate ?? '', 'base64'));
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'server auth');
    assert.match(cert.subjectAltName ?? '', /DNS:w1/);
    assert.match(cert.subjectAltName ?? '', /IP Address:198\.18\.0\.2/);
  });

  test('sabotage: an administrator approves a client CSR with the wrong subject: the signer fails it', async () => {
    const r = await create(csrBody(makeCsr({ cn: 'system:node:w1', o: ['system:masters'] })));
    const name = (r.body as unknown as Csr).metadata.name;
    cp.approveCsr(name);
    const done = await settle(name);
    const failed = done.status.conditions?.find((x) => x.type === 'Failed');
    assert.equal(failed?.reason, 'SignerValidationFailure');
    assert.equal(failed?.message, 'subject organization is not system:nodes');
    assert.equal(done.status.certificate, undefined);
  });

  test('a denied CSR is never signed', async () => {
    const r = await create(csrBody(makeCsr({ cn: 'system:node:w1', o: ['system:masters'] })));
    const name = (r.body as unknown as Csr).metadata.name;
    cp.denyCsr(name);
    await sleep(400);
    const c = await read(name);
    assert.deepEqual(c.status.conditions?.map((x) => x.type), ['Denied']);
    assert.equal(c.status.certificate, undefined);
  });

  test('renewal: a node renews its own client certificate (selfnodeclient), not another node\'s', async () => {
    const node: Creds = { cert: cp.issueClientCert('w9') };
    const own = await create(csrBody(makeCsr({ cn: 'system:node:w9', o: ['system:nodes'] })), node);
    assert.equal(own.code, 201, JSON.stringify(own.body));
    const done = await settle((own.body as unknown as Csr).metadata.name);
    assert.equal(done.status.conditions?.[0].message, 'Auto approving self kubelet client certificate after SubjectAccessReview.');
    assert.ok(done.status.certificate);
    const other = await create(csrBody(makeCsr({ cn: 'system:node:w8', o: ['system:nodes'] })), node);
    assert.equal(other.code, 201);
    await pendingAfterAWhile((other.body as unknown as Csr).metadata.name);
  });

  test('the API refuses malformed CSRs with 422 Invalid, naming every field', async () => {
    const r = await create({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', spec: { request: Buffer.from('not a csr').toString('base64'), signerName: 'kubelet', usages: ['client auth', 'client auth', 'flying'] } });
    assert.equal(r.code, 422);
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.reason, 'Invalid');
    const fields = ((r.body.details as { causes: { field: string }[] }).causes ?? []).map((c) => c.field);
    assert.deepEqual(fields, ['metadata.name', 'spec.request', 'spec.usages[1]', 'spec.usages[2]', 'spec.signerName']);
    assert.match(String(r.body.message), /PEM block type must be CERTIFICATE REQUEST/);
    const noUsages = await create(csrBody(makeCsr({ cn: 'system:node:w1', o: ['system:nodes'] }), undefined, []));
    assert.equal(noUsages.code, 422);
    assert.match(String(noUsages.body.message), /spec\.usages: Required value: usages must be provided/);
  });

  test('anonymous may not create CSRs; a token is needed', async () => {
    const r = await create(csrBody(makeCsr({ cn: 'system:node:w1', o: ['system:nodes'] })), {});
    assert.equal(r.code, 403);
    assert.equal(r.body.message, 'certificatesigningrequests.certificates.k8s.io is forbidden: User "system:anonymous" cannot create resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope');
  });

  test('a watch on the CSR sees it signed', async () => {
    const r = await create(csrBody(makeCsr({ cn: 'system:node:w-watch', o: ['system:nodes'] })));
    const name = (r.body as unknown as Csr).metadata.name;
    const https = await import('node:https');
    const events = await new Promise<string>((resolve, reject) => {
      const req = https.get(`${cp.url}${CSRS}?watch=1&fieldSelector=metadata.name%3D${name}&timeoutSeconds=5`, { ca: cp.caPem, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('"certificate"')) {
            req.destroy();
            resolve(text);
          }
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
    });
    const types = events.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    assert.equal(types[0], 'ADDED');
    assert.ok(types.slice(1).every((t) => t === 'MODIFIED') && types.length >= 2, types.join(','));
  });
});
