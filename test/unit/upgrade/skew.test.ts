import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gitVersionOf, upgradeVerdict } from '../../../src/upgrade/skew.js';

// kubeadm's skew policy for a worker's in-place upgrade, as a table.
const cases: [string, string, string, string | undefined, RegExp | string][] = [
  ['same version', 'v1.32.11', 'v1.32.11', 'v1.32.11', 'none'],
  ['patch', 'v1.32.11', 'v1.32.12', 'v1.32.12', 'patch'],
  ['patch behind a newer control plane', 'v1.32.11', 'v1.32.12', 'v1.33.1', 'patch'],
  ['minor', 'v1.32.12', 'v1.33.2', 'v1.33.2', 'minor'],
  ['minor and patch at once', 'v1.32.11', 'v1.33.0', 'v1.33.5', 'minor'],
  ['downgrade (patch)', 'v1.32.12', 'v1.32.11', 'v1.32.12', /older than the v1\.32\.12 this node runs: kubeadm does not downgrade/],
  ['downgrade (minor)', 'v1.33.2', 'v1.32.12', 'v1.33.2', /does not downgrade/],
  ['skipped minor', 'v1.32.11', 'v1.34.1', 'v1.34.1', /skips v1\.33: kubeadm upgrades one minor version at a time/],
  ['kubelet newer than the API server (patch)', 'v1.32.11', 'v1.32.12', 'v1.32.11', /kubelet v1\.32\.12 would be newer than the API server v1\.32\.11/],
  ['kubelet newer than the API server (minor)', 'v1.32.11', 'v1.33.2', 'v1.32.12', /newer than the API server/],
  ['API server with a build suffix', 'v1.32.11', 'v1.32.12', 'v1.32.12+k3s1', 'patch'],
  ['API server version unreadable', 'v1.32.11', 'v1.32.12', undefined, /cannot be read/],
  ['major change', 'v1.32.11', 'v2.0.0', 'v2.0.0', /major version/],
];

for (const [name, from, to, api, want] of cases) {
  test(`upgradeVerdict: ${name}`, () => {
    const v = upgradeVerdict(from, to, api);
    if (typeof want === 'string') return assert.equal(v.kind, want, JSON.stringify(v));
    assert.equal(v.kind, 'refused', JSON.stringify(v));
    assert.match((v as { reason: string }).reason, want);
    assert.ok((v as { hint: string }).hint.length > 10, 'a refusal says what to do');
  });
}

test('a downgrade is refused before the API server is asked about', () => {
  assert.equal(upgradeVerdict('v1.33.0', 'v1.32.0', undefined).kind, 'refused');
  assert.match((upgradeVerdict('v1.33.0', 'v1.32.0', undefined) as { reason: string }).reason, /downgrade/);
});

test('gitVersionOf: package versions of both families', () => {
  assert.equal(gitVersionOf('1.32.11-1.1'), 'v1.32.11');
  assert.equal(gitVersionOf('1.33.2-150500.1.1'), 'v1.33.2');
  assert.equal(gitVersionOf('1:1.32.11-1.1'), 'v1.32.11');
  assert.equal(gitVersionOf('garbage'), undefined);
});
