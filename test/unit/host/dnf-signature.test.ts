import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseSignatureFailure, signatureError, undoSignatureAttempt } from '../../../src/steps/host/packages/dnf-signature.js';
import { FakeProc, rockyFacts, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';

// What dnf printed, verbatim, when the repository's packages or metadata were signed by
// another key than the one its gpgkey= names (dnf 4.14 on Debian 12, dnf 5.4.6 and
// dnf 4.24 from Debian sid; the e2e scenarios run them for real).
const DNF4_WRONG_KEY = `Importing GPG key 0xB9DA8C57:
 Userid     : "wrong key <w@x.invalid>"
 Fingerprint: C672 796C AE5C 3FD5 D85C A562 012B EE00 B9DA 8C57
 From       : /etc/pki/rpm-gpg/kubernetes.asc
Key imported successfully
Import of key(s) didn't help, wrong key(s)?
Public key for kubelet-1.32.11-150500.1.1.x86_64.rpm is not installed. Failing package is: kubelet-1.32.11-150500.1.1.x86_64
 GPG Keys are configured as: file:///etc/pki/rpm-gpg/kubernetes.asc
Error: GPG check FAILED`;
const DNF5_WRONG_KEY = `The key was successfully imported.
Transaction failed: Signature verification failed.
OpenPGP check for package "kubelet-1.32.12-150500.1.1.x86_64" (/var/cache/libdnf5/kubernetes-e7364d0255cf0b06/packages/kubelet-1.32.12-150500.1.1.x86_64.rpm) from repo "kubernetes" has failed: Import of the key didn't help, wrong key?`;
const DNF4_REPOMD = `Importing GPG key 0xB9DA8C57:
Error: Failed to download metadata for repo 'kubernetes': repomd.xml GPG signature verification error: Bad GPG signature`;
const DNF5_REPOMD = `Failed to download metadata (baseurl: "http://198.18.0.57:8082/core:/stable:/v1.32/rpm/") for repository "kubernetes": repomd.xml GPG signature verification error: Signing key not found`;
const NOT_SIGNATURE = `Error: Failed to download metadata for repo 'kubernetes': Cannot download repomd.xml: Curl error (7): Couldn't connect to server`;

describe('dnf signature failures', () => {
  it('dnf 4: the package, the key URL and the reason', () => {
    assert.deepEqual(parseSignatureFailure(DNF4_WRONG_KEY), { repos: [], packages: ['kubelet-1.32.11-150500.1.1.x86_64'], keyUrls: ['file:///etc/pki/rpm-gpg/kubernetes.asc'], reason: "Import of key(s) didn't help, wrong key(s)?" });
  });
  it('dnf5: the package, the repository and the reason', () => {
    assert.deepEqual(parseSignatureFailure(DNF5_WRONG_KEY), { repos: ['kubernetes'], packages: ['kubelet-1.32.12-150500.1.1.x86_64'], keyUrls: [], reason: "Import of the key didn't help, wrong key?" });
  });
  it('repo_gpgcheck: the repository whose repomd.xml did not verify (dnf 4 and dnf5)', () => {
    assert.deepEqual(parseSignatureFailure(DNF4_REPOMD)?.repos, ['kubernetes']);
    assert.equal(parseSignatureFailure(DNF4_REPOMD)?.reason, 'repomd.xml GPG signature verification error: Bad GPG signature');
    assert.deepEqual(parseSignatureFailure(DNF5_REPOMD)?.repos, ['kubernetes']);
    assert.equal(parseSignatureFailure(DNF5_REPOMD)?.reason, 'repomd.xml GPG signature verification error: Signing key not found');
  });
  it('a network failure is not a signature failure', () => {
    assert.equal(parseSignatureFailure(NOT_SIGNATURE), null);
  });

  const t = tempRoot();
  after(t.cleanup);
  const keyUrl = 'http://mirror.test/keys/wrong.asc';
  const config = testConfig({ repositories: { kubernetes: { url: 'http://mirror.test/k8s/rpm/', key: keyUrl } }, containerd: { source: 'docker', registryMirrors: {} } });

  it('names the repository, the key file and where it came from; not retryable', () => {
    const ctx = stepContext(t.files, new FakeProc(), config, rockyFacts);
    for (const text of [DNF4_WRONG_KEY, DNF5_WRONG_KEY]) {
      const e = signatureError(ctx, 'dnf install', parseSignatureFailure(text)!, []);
      assert.match(e.message, /^packages: dnf install: repository "kubernetes" \(kubelet-1\.32\.1[12]-150500\.1\.1\.x86_64\) does not verify with the key in \/etc\/pki\/rpm-gpg\/kubernetes\.asc \(repositories\.kubernetes\.key: http:\/\/mirror\.test\/keys\/wrong\.asc\): .*wrong key.*; nothing was installed$/);
      assert.match(e.hint!, /^set repositories\.kubernetes\.key to the key that signs kubernetes/);
      assert.equal(e.retryable, false);
    }
    const docker = signatureError(ctx, 'dnf install', parseSignatureFailure(DNF5_WRONG_KEY.replaceAll('kubelet-1.32.12-150500.1.1', 'containerd.io-2.1.9-1.el10').replace('repo "kubernetes"', 'repo "docker-ce-stable"'))!, []);
    assert.match(docker.message, /repository "docker-ce-stable" .* \/etc\/pki\/rpm-gpg\/docker\.asc \(downloaded from https:\/\/download\.docker\.com\/linux\/centos\/gpg\)/);
    const distro = signatureError(ctx, 'dnf install', parseSignatureFailure(DNF5_WRONG_KEY.replace('repo "kubernetes"', 'repo "baseos"').replaceAll('kubelet-1.32.12-150500.1.1', 'python3-dnf-plugin-versionlock-4.3.1-1.el10'))!, []);
    assert.match(distro.message, /repository "baseos" .*\(the host's own repository/);
  });

  it('undo: removes the keys the attempt imported and the downloaded key file, keeps the rest', async () => {
    const proc = new FakeProc();
    let keys = 'gpg-pubkey-aaaa-1\n';
    proc.on('rpm -q gpg-pubkey', () => ({ stdout: keys }));
    proc.on(/^rpm -e --allmatches /, (c) => ((keys = 'gpg-pubkey-aaaa-1\n'), { stdout: '', args: c.args }));
    const ctx = stepContext(t.files, proc, config, rockyFacts);
    await t.files.write('/etc/pki/rpm-gpg/kubernetes.asc', 'wrong key\n');
    await t.files.write('/etc/pki/rpm-gpg/docker.asc', 'docker key\n');
    const before = new Set(['gpg-pubkey-aaaa-1']);
    keys = 'gpg-pubkey-aaaa-1\ngpg-pubkey-b9da8c57-6b0fd6b2\n';
    const done = await undoSignatureAttempt(ctx, parseSignatureFailure(DNF4_WRONG_KEY)!, before);
    assert.deepEqual(proc.runs(), ['rpm -e --allmatches gpg-pubkey-b9da8c57-6b0fd6b2']);
    assert.equal(await t.files.exists('/etc/pki/rpm-gpg/kubernetes.asc'), false, 'the downloaded wrong key is gone: the next run fetches it again');
    assert.equal(await t.files.read('/etc/pki/rpm-gpg/docker.asc'), 'docker key\n', 'the other repository\'s key stays');
    assert.equal(done.length, 2, done.join('; '));
  });
});
