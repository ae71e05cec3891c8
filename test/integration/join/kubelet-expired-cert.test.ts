import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { runCmd, STANDINS, tempRoot, TOKEN } from './harness.js';

// The kubelet stand-in's start with a client certificate that expired (kubernetes#78758),
// as kubelet v1.32's LoadClientCert does it: the expired certificate is logged and the
// bootstrap kubeconfig used; without one (kubeadm removes it after the join) the kubelet
// exits 1, restarted by systemd forever; with one, it bootstraps a new certificate.
const DAY = 86_400_000;

describe('kubelet stand-in: an expired client certificate at start', () => {
  let cp: ControlPlane;
  const roots: { root: string; cleanup: () => void }[] = [];
  before(async () => {
    cp = await startControlPlane({ tokens: [TOKEN] });
  });
  afterEach(() => {
    for (const t of roots.splice(0)) t.cleanup();
  });
  after(() => cp.close());

  // a joined node's files, with its client certificate valid for `validity`
  const joined = (validity?: { notBefore: Date; notAfter: Date }): string => {
    const t = tempRoot();
    roots.push(t);
    const { root } = t;
    const cert = cp.issueClientCert('w1', validity);
    mkdirSync(path.join(root, 'var/lib/kubelet/pki'), { recursive: true });
    mkdirSync(path.join(root, 'etc/kubernetes'), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem'), cert.certPem + cert.keyPem, { mode: 0o600 });
    writeFileSync(path.join(root, 'var/lib/kubelet/kubeadm-flags.env'), 'KUBELET_KUBEADM_ARGS="--hostname-override=w1"\n');
    writeFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from(cp.caPem).toString('base64')}\n    server: ${cp.url}\n  name: default-cluster\nusers:\n- name: default-auth\n  user:\n    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n`);
    return root;
  };
  // part 1 of the stand-in alone (the TLS bootstrap), as the kubelet stand-in sources it;
  // not spawnSync: the control plane answering its CSR runs in this process
  const bootstrap = (root: string) => runCmd('sh', ['-c', `set -eu; R="$1"; . "$2"; tls_bootstrap; echo "client certificate loaded"`, 'sh', root, path.join(STANDINS, 'kubelet-bootstrap')], process.env, 60_000);
  const expiredAt = new Date(Math.floor(Date.now() / 1000 - DAY / 1000) * 1000);

  test('a valid certificate: no bootstrap', async () => {
    const r = await bootstrap(joined());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /client certificate loaded/);
  });

  test('sabotage: expired and no bootstrap kubeconfig: the kubelet\'s two lines, exit 1', async () => {
    const r = await bootstrap(joined({ notBefore: new Date(Date.now() - 30 * DAY), notAfter: expiredAt }));
    assert.equal(r.code, 1);
    const stamp = expiredAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' \\+0000 UTC');
    assert.match(r.stderr, new RegExp(`part of the existing bootstrap client certificate in /etc/kubernetes/kubelet\\.conf is expired: ${stamp}`));
    assert.match(r.stderr, /"command failed" err="failed to run Kubelet: unable to load bootstrap kubeconfig: stat \/etc\/kubernetes\/bootstrap-kubelet\.conf: no such file or directory"/);
    assert.doesNotMatch(r.stdout, /client certificate loaded/);
  });

  test('expired with a bootstrap kubeconfig (a new token): a new certificate from the CSR API', async () => {
    const root = joined({ notBefore: new Date(Date.now() - 30 * DAY), notAfter: expiredAt });
    writeFileSync(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf'), `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from(cp.caPem).toString('base64')}\n    server: ${cp.url}\n  name: kubernetes\nusers:\n- name: tls-bootstrap-token-user\n  user:\n    token: ${TOKEN}\n`, { mode: 0o600 });
    const r = await bootstrap(root);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /is expired/);
    const current = realpathSync(path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
    assert.match(path.basename(current), /^kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/, 'a new dated certificate file');
    const cert = new X509Certificate(readFileSync(current));
    assert.ok(Date.parse(cert.validTo) > Date.now(), 'the new certificate is valid');
    assert.match(cert.subject, /CN=system:node:w1/);
  });
});
