import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderConfig } from '../../e2e/harness/config.js';

// The e2e harness never joins without verifying the control plane unless a scenario says
// so: a missing CA pin (e.g. the fixture renamed its key) is an error, not a fallback.
const base = { host: '198.18.0.1', repoUrl: 'http://198.18.0.1:8080/debian/', registry: '198.18.0.1:5000', token: 'abcdef.0123456789abcdef' };

test('renderConfig: a CA pin is required; unsafeSkipCAVerification only when asked for', () => {
  assert.throws(() => renderConfig(base), /no caCertHash .* the harness never turns CA verification off silently/);
  const pinned = renderConfig({ ...base, caCertHash: `sha256:${'a'.repeat(64)}` });
  assert.match(pinned, /caCertHashes: \["sha256:a{64}"\]/);
  assert.doesNotMatch(pinned, /unsafeSkipCAVerification/);
  assert.match(renderConfig({ ...base, unsafeSkipCAVerification: true }), /unsafeSkipCAVerification: true/);
});
