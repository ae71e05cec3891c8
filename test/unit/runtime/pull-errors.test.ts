import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainPullFailure } from '../../../src/runtime/pull-errors.js';

// containerd 1.6's own error texts, as PullImage returns them.
const REF = 'registry.k8s.io/kube-proxy:v1.32.11';
const MIRROR = 'http://127.0.0.1:19715';
const refused = `failed to pull and unpack image "${REF}": failed to resolve reference "${REF}": failed to do request: Head "http://127.0.0.1:19715/v2/kube-proxy/manifests/v1.32.11?ns=registry.k8s.io": dial tcp 127.0.0.1:19715: connect: connection refused`;
const upstreamDown = `failed to pull and unpack image "${REF}": failed to resolve reference "${REF}": failed to do request: Head "https://registry.k8s.io/v2/kube-proxy/manifests/v1.32.11": dial tcp: lookup registry.k8s.io on 10.0.0.53:53: dial udp 10.0.0.53:53: connect: network is unreachable`;
const notFound = `failed to pull and unpack image "${REF}": failed to resolve reference "${REF}": ${REF}: not found`;

describe('explainPullFailure', () => {
  const cases: [string, string[], string, RegExp, boolean][] = [
    ['mirror down', [MIRROR], refused, /^pulling .*: registry mirror http:\/\/127\.0\.0\.1:19715 for registry\.k8s\.io is unreachable: /, true],
    ['mirror lacks the image, registry unreachable', [MIRROR], upstreamDown, /the mirror http:\/\/127\.0\.0\.1:19715 did not have it, and registry\.k8s\.io itself is unreachable/, false],
    ['not found anywhere', [MIRROR], notFound, /^pulling .*: not found in registry\.k8s\.io \(mirrors: http:\/\/127\.0\.0\.1:19715\)$/, false],
    ['no mirror, registry unreachable', [], upstreamDown, /^pulling .*: registry registry\.k8s\.io is unreachable/, true],
    ['something else', [], 'failed to extract layer: no space left on device', /^pulling .* failed: failed to extract layer/, true],
  ];
  for (const [name, mirrors, detail, re, retryable] of cases) {
    it(name, () => {
      const f = explainPullFailure(REF, 'registry.k8s.io', mirrors, detail);
      assert.match(f.message, re);
      assert.equal(f.retryable, retryable);
      assert.ok(f.hint.length > 10);
    });
  }
});
