import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { LoadedConfig } from '../../../src/config/types.js';
import { parseKubeconfig } from '../../../src/join/kubeconfig.js';
import { inspectKubeletCerts } from '../../../src/join/kubelet-certs.js';
import { expiredClientCert, rebootstrapRefusal, renderBootstrapKubeconfig } from '../../../src/join/rebootstrap.js';
import { makePki } from '../../fixtures/pki.js';
import { tempRoot } from '../../helpers/fakes.js';

// An expired kubelet client certificate (a node left off past its rotation) is found, and
// the kubelet is handed back to the TLS bootstrap with a new token.
test('the client certificate as the kubelet left it: expiry, subject, the dated file; expired once past notAfter', async () => {
  const pki = makePki('cluster');
  const { files, cleanup } = tempRoot();
  try {
    const cert = pki.issue({ cn: 'system:node:worker-1', org: 'system:nodes', client: true });
    const dir = files.resolve('/var/lib/kubelet/pki');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'kubelet-client-2026-12-01-10-00-00.pem'), cert.certPem + cert.keyPem);
    // relative here: the kubelet's absolute target would leave the temp root
    symlinkSync('kubelet-client-2026-12-01-10-00-00.pem', path.join(dir, 'kubelet-client-current.pem'));
    const c = await inspectKubeletCerts(files);
    assert.match(c.clientSubject!, /CN=system:node:worker-1/);
    assert.equal(c.clientFile, 'kubelet-client-2026-12-01-10-00-00.pem');
    assert.equal(await expiredClientCert({ files }), undefined, 'valid today');
    const later = Date.parse(c.clientNotAfter!) + 1000;
    assert.equal(await expiredClientCert({ files }, later), c.clientNotAfter, 'expired past notAfter');
  } finally {
    cleanup();
    rmSync(pki.dir, { recursive: true, force: true });
  }
});

test('the bootstrap kubeconfig is kubeadm\'s (tls-bootstrap-token-user), and the refusal names where the new token goes', () => {
  const kc = parseKubeconfig(renderBootstrapKubeconfig('https://10.0.0.1:6443', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'abcdef.0123456789abcdef'), 'bootstrap-kubelet.conf');
  assert.equal(kc.server, 'https://10.0.0.1:6443');
  assert.match(kc.caPem!, /BEGIN CERTIFICATE/);
  const e = rebootstrapRefusal({ file: '/etc/joinagent/config.yaml', tokenSource: 'none', tokenPath: '/etc/joinagent/token' } as LoadedConfig, '2026-01-01T00:00:00Z');
  assert.match(e.message, /client certificate expired at 2026-01-01T00:00:00Z/);
  assert.match(e.hint!, /put a new bootstrap token in \/etc\/joinagent\/token/);
});
