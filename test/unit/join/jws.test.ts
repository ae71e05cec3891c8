import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeJws, detachedJws, splitToken, verifyDetachedJws } from '../../../src/join/jws.js';
import { signDetached } from '../../fixtures/controlplane.js';

// The fixture signs without padding the key; kubeadm pads it to 32 bytes: both must agree.
test('detachedJws equals an independent HS256 signer, for several contents', () => {
  for (const content of ['', 'apiVersion: v1\n', 'x'.repeat(5000), 'ünïcode: ✓\n']) {
    assert.equal(detachedJws(content, 'abcdef', '0123456789abcdef'), signDetached(content, 'abcdef', '0123456789abcdef'));
  }
  assert.match(detachedJws('a', 'abcdef', '0123456789abcdef'), /^eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9\.\.[A-Za-z0-9_-]{43}$/);
});

test('verify: right secret true; wrong secret, other content, other id false', () => {
  const jws = signDetached('kubeconfig', 'abcdef', '0123456789abcdef');
  assert.equal(verifyDetachedJws(jws, 'kubeconfig', 'abcdef', '0123456789abcdef'), true);
  assert.equal(verifyDetachedJws(jws, 'kubeconfig', 'abcdef', '0123456789abcdee'), false);
  assert.equal(verifyDetachedJws(jws, 'kubeconfig2', 'abcdef', '0123456789abcdef'), false);
  assert.equal(verifyDetachedJws(jws, 'kubeconfig', 'abcdeg', '0123456789abcdef'), false);
  assert.equal(verifyDetachedJws('garbage', 'kubeconfig', 'abcdef', '0123456789abcdef'), false);
});

test('describeJws names malformed values; a well-formed one is "wrong secret" (undefined)', () => {
  assert.equal(describeJws(signDetached('k', 'abcdef', 's'), 'abcdef'), undefined);
  assert.match(describeJws('a.b.c', 'abcdef')!, /not a detached JWS/);
  assert.match(describeJws(signDetached('k', 'zzzzzz', 's'), 'abcdef')!, /signed for token id "zzzzzz"/);
});

test('splitToken: id and secret; a bad token is rejected without echoing it', () => {
  assert.deepEqual(splitToken('abcdef.0123456789abcdef'), { id: 'abcdef', secret: '0123456789abcdef' });
  assert.throws(() => splitToken('abcdef.0123456789ABCDEF'), (e: Error) => !e.message.includes('0123456789ABCDEF'));
});
