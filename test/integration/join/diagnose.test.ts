import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { runBinary, SECRET, tempRoot, TOKEN, writeConfig } from './harness.js';

// `joinagent diagnose` through the built binary: one line per check, exit 0 when
// nothing failed, 1 (and the failed check named) otherwise.
const CHECKS = ['node-ip', 'route', 'tcp', 'tls', 'healthz', 'version', 'clock-skew', 'cluster-info', 'token', 'ca-pin', 'ca-verified', 'clock-sync', 'firewall', 'swap', 'containerd', 'kubelet', 'node-ready'];

describe('joinagent diagnose (built binary)', () => {
  let cp: ControlPlane;
  const { root, cleanup } = tempRoot();
  before(async () => {
    cp = await startControlPlane({ port: 19747, tokens: [TOKEN] });
  });
  after(async () => {
    await cp.close();
    cleanup();
  });

  test('healthy control plane and token: every check listed, none failed, exit 0', async () => {
    const cfg = writeConfig(root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash] });
    const r = await runBinary(['diagnose', '--config', cfg, '--root', root]);
    assert.equal(r.code, 0, r.stdout);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, -1).map((l) => l.split(/\s+/)[1]), CHECKS);
    assert.ok(lines.slice(0, -1).every((l) => /^(PASS|WARN|SKIP) /.test(l)), r.stdout);
    assert.equal(lines.at(-1), 'diagnose: all checks passed');
  });

  test('wrong token secret: the token line fails with its hint, exit 1, secret never shown', async () => {
    const cfg = writeConfig(root, { endpoint: cp.endpoint, token: 'abcdef.fedcba9876543210', caCertHashes: [cp.caHash] });
    const r = await runBinary(['diagnose', '--config', cfg, '--root', root]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL {2}token +the cluster-info signature for token "abcdef" does not verify.*\(hint: copy the whole token/m);
    assert.match(r.stdout, /diagnose: 1 check failed: token/);
    assert.ok(!r.stdout.includes('fedcba9876543210') && !r.stdout.includes(SECRET));
  });

  test('API server down: tcp fails as refused, token reported as not checked, local checks still run', async () => {
    const cfg = writeConfig(root, { endpoint: '127.0.0.1:19748', token: TOKEN, caCertHashes: [cp.caHash] });
    const r = await runBinary(['diagnose', '--config', cfg, '--root', root]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL {2}tcp +connection to 127\.0\.0\.1:19748 refused/m);
    assert.match(r.stdout, /^SKIP {2}token +not checked: tcp failed/m);
    assert.match(r.stdout, /^(PASS|SKIP) {2}kubelet /m);
  });
});
