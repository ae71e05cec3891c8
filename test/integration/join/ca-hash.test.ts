import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { opensslPin } from '../../fixtures/pki.js';
import { BINARY, runBinary, runCmd, tempRoot } from './harness.js';

// `joinagent ca-hash` against certificates whose pins openssl computes independently
// (openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum).
describe('joinagent ca-hash (built binary)', () => {
  const { root, cleanup } = tempRoot();
  after(cleanup);
  const make = (name: string, keyArgs: string[]): string => {
    const file = path.join(root, `${name}.crt`);
    execFileSync('openssl', ['req', '-x509', '-nodes', ...keyArgs, '-keyout', path.join(root, `${name}.key`), '-out', file, '-days', '1', '-subj', `/CN=${name}`], { stdio: 'pipe' });
    return file;
  };
  const rsa = make('rsa-ca', ['-newkey', 'rsa:2048']);
  const ec = make('ec-ca', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);

  test('RSA and EC CAs: the same pin as the openssl pipeline', async () => {
    for (const f of [rsa, ec]) {
      const r = await runBinary(['ca-hash', '--cert', f]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${opensslPin(f)}\n`);
    }
  });

  test('default /etc/kubernetes/pki/ca.crt under --root; DER input; a bundle gives one pin per certificate', async () => {
    mkdirSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
    writeFileSync(path.join(root, 'etc/kubernetes/pki/ca.crt'), readFileSync(ec));
    let r = await runBinary(['ca-hash', '--root', root]);
    assert.equal(r.stdout, `${opensslPin(ec)}\n`);
    const der = path.join(root, 'rsa.der');
    execFileSync('openssl', ['x509', '-in', rsa, '-outform', 'der', '-out', der]);
    r = await runBinary(['ca-hash', '--cert', der]);
    assert.equal(r.stdout, `${opensslPin(rsa)}\n`);
    const bundle = path.join(root, 'bundle.pem');
    writeFileSync(bundle, readFileSync(rsa, 'utf8') + readFileSync(ec, 'utf8'));
    r = await runBinary(['ca-hash', '--cert', bundle]);
    assert.equal(r.stdout, `${opensslPin(rsa)}\n${opensslPin(ec)}\n`);
  });

  // issue 17 item 5: a relative --cert was read from / (as /rsa-ca.crt)
  test('a relative --cert is read from the current directory', async () => {
    const r = await runCmd('sh', ['-c', `cd "$1" && exec "$2" ca-hash --cert rsa-ca.crt`, 'sh', root, BINARY]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${opensslPin(rsa)}\n`);
  });

  test('missing or non-certificate files: exit 1 naming the file', async () => {
    let r = await runBinary(['ca-hash', '--root', path.join(root, 'nowhere')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\/etc\/kubernetes\/pki\/ca\.crt does not exist \(run this on a control-plane node, or pass --cert FILE\)/);
    r = await runBinary(['ca-hash', '--cert', path.join(root, 'rsa-ca.key')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /rsa-ca\.key: not a readable X\.509 certificate/);
  });
});
