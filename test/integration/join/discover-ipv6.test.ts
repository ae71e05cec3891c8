import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { runBinary, tempRoot, TOKEN, writeConfig } from './harness.js';

// An IPv6 API endpoint ([::1]:port, as kubeadm writes it) through the built binary:
// discovery connects, verifies the pinned CA over IPv6 and names the endpoint in brackets.
describe('joinagent discover over IPv6 (built binary)', () => {
  let cp: ControlPlane;
  const t = tempRoot();
  before(async () => {
    cp = await startControlPlane({ host: '::1', port: 19737, tokens: [TOKEN] });
  });
  after(async () => {
    await cp.close();
    t.cleanup();
  });

  test('[::1]:19737: every stage passes; messages bracket the address', async () => {
    assert.equal(cp.endpoint, '[::1]:19737');
    const cfg = writeConfig(t.root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash] });
    const r = await runBinary(['discover', '--config', cfg, '--root', t.root]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^PASS {2}tcp +TCP connect to \[::1\]:19737 in \d+ ms$/m);
    assert.match(r.stdout, /^PASS {2}ca-verified /m);
    assert.match(r.stdout, /discovery ok: API server v1\.32\.11 at \[::1\]:19737, token "abcdef" valid/);
  });

  test('nothing listening on [::1]: the refusal names [::1]:port', async () => {
    const cfg = writeConfig(t.root, { endpoint: '[::1]:19735', token: TOKEN, caCertHashes: [cp.caHash] });
    const r = await runBinary(['discover', '--config', cfg, '--root', t.root]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL {2}tcp +connection to \[::1\]:19735 refused/m);
  });
});
