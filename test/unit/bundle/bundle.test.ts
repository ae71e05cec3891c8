import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { parseSha256Sums, renderSha256Sums, sha256, verifyBundleDir } from '../../../src/bundle/checksums.js';
import { packagesStanza, releaseFile } from '../../../src/bundle/deb-repo.js';
import { checkRepoUrl, localRepoDir } from '../../../src/config/formats.js';
import { StepError } from '../../../src/engine/step.js';
import { repositoryPlan } from '../../../src/steps/host/packages/repos.js';
import { debianFacts, tempRoot, testConfig } from '../../helpers/fakes.js';

describe('air-gapped bundle', () => {
  it('SHA256SUMS round-trips in sha256sum\'s format', () => {
    const text = renderSha256Sums({ 'b.deb': 'b'.repeat(64), 'a.deb': 'a'.repeat(64) });
    assert.equal(text, `${'a'.repeat(64)}  a.deb\n${'b'.repeat(64)}  b.deb\n`);
    assert.deepEqual([...parseSha256Sums(text + `${'c'.repeat(64)} *c.tar\n`)], [['a.deb', 'a'.repeat(64)], ['b.deb', 'b'.repeat(64)], ['c.tar', 'c'.repeat(64)]]);
  });
  it('a directory is checked against its list: changed, missing and added files each stop it, naming the file', async () => {
    const t = tempRoot();
    after(t.cleanup);
    const put = (f: string, d: string) => t.files.write(`/b/${f}`, d, { backup: false });
    await put('kubelet_1.deb', 'kubelet');
    await put('Packages', 'index');
    await put('SHA256SUMS', renderSha256Sums({ 'kubelet_1.deb': sha256(Buffer.from('kubelet')), Packages: sha256(Buffer.from('index')) }));
    assert.equal(await verifyBundleDir(t.files, '/b/', 'packages'), 2);
    assert.equal(await verifyBundleDir(t.files, '/nobundle/', 'packages'), null, 'no list: not a bundle');
    await put('kubelet_1.deb', 'kubelet!');
    await assert.rejects(verifyBundleDir(t.files, '/b/', 'packages'), (e: StepError) => /\/b\/kubelet_1\.deb has sha256 [0-9a-f]{64}, but the bundle's SHA256SUMS says/.test(e.message) && /unpack the bundle again/.test(e.hint ?? ''));
    await put('kubelet_1.deb', 'kubelet');
    await put('evil_1.deb', 'x');
    await assert.rejects(verifyBundleDir(t.files, '/b/', 'packages'), /\/b\/evil_1\.deb is not in the bundle's SHA256SUMS/);
    await t.files.remove('/b/evil_1.deb');
    await t.files.remove('/b/Packages');
    await assert.rejects(verifyBundleDir(t.files, '/b/', 'packages'), /\/b\/Packages is listed in \/b\/SHA256SUMS but missing/);
  });
  it('Packages stanza: the control fields, then where the file is and its size and hashes', () => {
    const data = Buffer.from('deb-bytes');
    const s = packagesStanza('Package: kubelet\nVersion: 1.32.11-1.1\nArchitecture: amd64\nSize: 1\n', 'kubelet_1.32.11-1.1_amd64.deb', data);
    assert.equal(s, `Package: kubelet\nVersion: 1.32.11-1.1\nArchitecture: amd64\nFilename: ./kubelet_1.32.11-1.1_amd64.deb\nSize: 9\nMD5sum: ${createHash('md5').update(data).digest('hex')}\nSHA256: ${sha256(data)}\n`);
    assert.match(releaseFile({ Packages: Buffer.from('x') }, new Date(0)), /^Date: Thu, 01 Jan 1970 00:00:00 UTC$[\s\S]*^SHA256:\n [0-9a-f]{64} 1 Packages$/m);
  });
  it('repositories: a local directory is file:, trusted (no key) unless a key is given; the bundle also carries containerd.io', () => {
    assert.equal(checkRepoUrl('file:///opt/joinagent-bundle/packages'), undefined);
    assert.equal(checkRepoUrl('/opt/joinagent-bundle/packages'), undefined);
    assert.match(checkRepoUrl('ftp://x/') ?? '', /neither an http\(s\) URL nor a local directory/);
    assert.equal(localRepoDir('/opt/../etc'), undefined);
    const cfg = testConfig({ containerd: { source: 'docker', registryMirrors: {} }, repositories: { kubernetes: { url: 'file:///opt/joinagent-bundle/packages' } } });
    const plan = repositoryPlan(cfg, debianFacts, { id: 'debian', codename: 'bookworm' });
    assert.deepEqual(plan.files.map((f) => f.content.split('\n')[1]), ['deb [trusted=yes] file:/opt/joinagent-bundle/packages/ /']);
    assert.deepEqual(plan.keys, [], 'no key to fetch: nothing leaves the node');
    const signed = repositoryPlan(testConfig({ repositories: { kubernetes: { url: '/srv/mirror', key: '/srv/mirror/key.asc' } } }), debianFacts, { id: 'debian' });
    assert.equal(signed.files[0].content.split('\n')[1], 'deb [signed-by=/etc/apt/keyrings/kubernetes.asc] file:/srv/mirror/ /');
    const rpm = repositoryPlan(cfg, { family: 'rhel', arch: 'x64' }, { id: 'rocky' });
    assert.match(rpm.files[0].content, /^baseurl=file:\/\/\/opt\/joinagent-bundle\/packages\/$/m);
    assert.match(rpm.files[0].content, /^gpgcheck=0$/m);
  });
});
