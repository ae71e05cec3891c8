import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { discoverConfiguredShared } from '../../../src/join/discover-config.js';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { testConfig } from '../../helpers/fakes.js';

// The preflight and discovery steps share one successful discovery for 30 s (a fleet
// joining at once would otherwise ask the control plane the same questions twice or
// three times per node); a failure is never shared, and an old result is not reused.
describe('discoverConfiguredShared', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ tokens: ['abcdef.0123456789abcdef'] });
  });
  after(() => cp.close());

  const config = (token: string) => {
    const c = testConfig();
    return { ...c, token, join: { ...c.join, apiServerEndpoint: cp.endpoint, caCertHashes: [cp.caHash], unsafeSkipCAVerification: false } };
  };
  const asked = (): number => cp.requests.filter((r) => r.path === '/api/v1/namespaces/kube-public/configmaps/cluster-info').length;

  test('a second discovery within 30 s asks nothing; after 30 s it asks again', async () => {
    let now = 1_000_000;
    const c = config('abcdef.0123456789abcdef');
    const n0 = asked();
    const a = await discoverConfiguredShared(c, undefined, undefined, () => now);
    assert.equal(a.ok, true, JSON.stringify(a.failure));
    const n1 = asked();
    assert.ok(n1 > n0, 'the first discovery read cluster-info');
    now += 29_000;
    assert.equal((await discoverConfiguredShared(c, undefined, undefined, () => now)).ok, true);
    assert.equal(asked(), n1, 'shared: no request');
    now += 2_000;
    assert.equal((await discoverConfiguredShared(c, undefined, undefined, () => now)).ok, true);
    assert.ok(asked() > n1, 'older than 30 s: asked again');
  });

  test('a failed discovery is not shared: the next check asks again', async () => {
    const now = () => 5_000_000;
    const c = config('zzzzzz.0123456789abcdef');
    const r = await discoverConfiguredShared(c, undefined, undefined, now);
    assert.equal(r.ok, false);
    assert.equal(r.failure?.name, 'token');
    const n = asked();
    await discoverConfiguredShared(c, undefined, undefined, now);
    assert.ok(asked() > n, 'asked again after a failure');
  });
});
