import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseDiscoveryKubeconfig } from '../../../src/join/discovery-kubeconfig.js';
import { checkKubeConfigPath } from '../../../src/config/formats.js';
import { makePki } from '../../fixtures/pki.js';
import { rmSync } from 'node:fs';

// kubeadm's reading of a discovery kubeconfig: which cluster, which CA, which credentials.
const pki = makePki();
after(() => rmSync(pki.dir, { recursive: true, force: true }));
const CA64 = Buffer.from(pki.caPem).toString('base64');
const files: Record<string, string> = { '/etc/kubernetes/ca.crt': pki.caPem, '/etc/kubernetes/c.crt': 'CERT', '/etc/kubernetes/c.key': 'KEY' };
const read = async (p: string): Promise<string | null> => files[p] ?? null;
const parse = (y: string) => parseDiscoveryKubeconfig(y, '/etc/joinagent/discovery.conf', read);

// What `kubectl -n kube-public get cm cluster-info -o jsonpath={.data.kubeconfig}` prints.
const CLUSTER_INFO = `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${CA64}\n    server: https://[fd00::1]:6443\n  name: ""\ncontexts: null\ncurrent-context: ""\nkind: Config\npreferences: {}\nusers: null\n`;

describe('discovery kubeconfig (kubeadm rules)', () => {
  it('the cluster-info kubeconfig: unnamed cluster, embedded CA, no credentials', async () => {
    const kc = await parse(CLUSTER_INFO);
    assert.deepEqual([kc.clusterName, kc.host, kc.port, kc.caSource, kc.auth.kind], ['', 'fd00::1', 6443, 'certificate-authority-data', 'none']);
    assert.equal(kc.caPem, pki.caPem);
  });
  it('the current context picks cluster and user; a CA file is embedded; a token is a credential', async () => {
    const y = `clusters:\n- name: other\n  cluster: { server: "https://10.0.0.9:6443", certificate-authority-data: ${CA64} }\n- name: prod\n  cluster: { server: "https://k8s-ctr:6443", certificate-authority: /etc/kubernetes/ca.crt }\ncontexts:\n- name: join\n  context: { cluster: prod, user: bootstrap }\ncurrent-context: join\nusers:\n- name: bootstrap\n  user: { token: abcdef.0123456789abcdef }\n`;
    const kc = await parse(y);
    assert.deepEqual([kc.clusterName, kc.server, kc.caSource, kc.auth.kind, kc.auth.user], ['prod', 'https://k8s-ctr:6443', '/etc/kubernetes/ca.crt', 'token', 'bootstrap']);
  });
  it('client certificate and key files are credentials; only a cert is not', async () => {
    const base = `clusters:\n- name: c\n  cluster: { server: "https://10.0.0.1:6443", certificate-authority-data: ${CA64} }\ncontexts: [{ name: x, context: { cluster: c, user: u } }]\ncurrent-context: x\n`;
    assert.equal((await parse(`${base}users: [{ name: u, user: { client-certificate: /etc/kubernetes/c.crt, client-key: /etc/kubernetes/c.key } }]\n`)).auth.kind, 'client-cert');
    assert.equal((await parse(`${base}users: [{ name: u, user: { client-certificate: /etc/kubernetes/c.crt } }]\n`)).auth.kind, 'none');
  });
  const bad: [string, string, RegExp][] = [
    ['no clusters', 'clusters: []\n', /at least one cluster defined/],
    ['no unnamed cluster, no current-context', `clusters: [{ name: a, cluster: { server: "https://x:6443", certificate-authority-data: ${CA64} } }]\n`, /no unnamed cluster and no current-context/],
    ['a current-context that does not exist', `${CLUSTER_INFO.replace('current-context: ""', 'current-context: nope')}`, /current-context "nope" names no context/],
    ['http server', CLUSTER_INFO.replace('https://[fd00::1]', 'http://[fd00::1]'), /is not https:\/\//],
    ['no server', CLUSTER_INFO.replace('    server: https://[fd00::1]:6443\n', ''), /has no server/],
    ['no CA at all', CLUSTER_INFO.replace(`    certificate-authority-data: ${CA64}\n`, ''), /has no certificate-authority\(-data\)/],
    ['unreadable CA file', CLUSTER_INFO.replace(`certificate-authority-data: ${CA64}`, 'certificate-authority: /nope/ca.crt'), /cannot read certificate-authority \/nope\/ca\.crt/],
    ['CA data that is no certificate', CLUSTER_INFO.replace(CA64, Buffer.from('hello').toString('base64')), /holds no PEM certificate/],
    ['insecure together with a CA', CLUSTER_INFO.replace('    server:', '    insecure-skip-tls-verify: true\n    server:'), /insecure-skip-tls-verify and a certificate authority are both set/],
    ['not YAML', '{{{', /not a kubeconfig/],
  ];
  for (const [name, y, re] of bad) it(`refused: ${name}`, () => assert.rejects(parse(y), (e: Error) => re.test(e.message) && e.message.startsWith('/etc/joinagent/discovery.conf: ')));

  it('kubeConfigPath: an absolute path or an https URL (kubeadm: "if a URL is used, the scheme must be https")', () => {
    assert.equal(checkKubeConfigPath('/etc/joinagent/discovery.conf'), undefined);
    assert.equal(checkKubeConfigPath('https://config.example/cluster-info.yaml'), undefined);
    assert.match(checkKubeConfigPath('http://config.example/x.yaml') ?? '', /the scheme must be https/);
    assert.match(checkKubeConfigPath('discovery.conf') ?? '', /neither an absolute path nor an https:\/\/ URL/);
  });
});
