import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { clusterInfoKubeconfig, startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { makePki, opensslPin } from '../../fixtures/pki.js';
import { agentEnv, runBinary, runCmd, SECRET, STANDINS, stopKubelet, tempRoot, TOKEN, type Result } from './harness.js';

// kubeadm's file discovery through the built binary: `discover` against the simulated
// control plane with the discovery kubeconfig as kubeadm docs suggest making it (the
// cluster-info kubeconfig), then a join through the stand-in kubeadm with it.
const UNKNOWN = 'zzzzzz.0123456789abcdef';
const URL_PORT = 19743;

function writeFileConfig(root: string, o: { kubeConfigPath: string; token?: string; tokenFile?: string; joinExtra?: string }): string {
  mkdirSync(path.join(root, 'cfg'), { recursive: true });
  const file = path.join(root, 'cfg/config.yaml');
  writeFileSync(
    file,
    `apiVersion: joinagent.io/v1alpha1\nkind: AgentConfiguration\nkubernetesVersion: v1.32.11\nstatus: { address: 127.0.0.1:19739 }\njoin:\n  waitForReady: 4s\n${o.tokenFile ? `  tokenFile: ${o.tokenFile}\n` : ''}---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  file:\n    kubeConfigPath: ${o.kubeConfigPath}\n${o.token ? `  tlsBootstrapToken: "${o.token}"\n` : ''}${o.joinExtra ?? ''}`,
    { mode: 0o600 },
  );
  return file;
}

function noSecret(r: Result): void {
  assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), `the token secret leaked:\n${r.stdout}\n${r.stderr}`);
}

describe('joinagent discover with discovery.file (built binary)', () => {
  let cp: ControlPlane;
  let t: ReturnType<typeof tempRoot>;
  let good = '';
  before(async () => {
    cp = await startControlPlane({ port: 19742, tokens: [TOKEN] });
    t = tempRoot();
    good = path.join(t.root, 'discovery.conf');
    writeFileSync(good, clusterInfoKubeconfig(cp.caPem, cp.url));
  });
  after(async () => {
    await cp.close();
    t.cleanup();
  });
  const discover = async (o: Parameters<typeof writeFileConfig>[1], env: NodeJS.ProcessEnv = process.env): Promise<Result> => {
    const r = await runBinary(['discover', '--config', writeFileConfig(t.root, o), '--root', t.root], env);
    noSecret(r);
    return r;
  };

  test('the cluster-info kubeconfig and a bootstrap token: every stage passes, the CA is the file\'s', async () => {
    const r = await discover({ kubeConfigPath: good, token: TOKEN });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const pin = opensslPin(cp.caFile);
    assert.match(r.stdout, new RegExp(`^PASS  file +${good}: cluster \\(unnamed\\) at ${cp.url}, CA ${pin} \\(certificate-authority-data\\)$`, 'm'));
    assert.match(r.stdout, /^PASS {2}auth +the TLS bootstrap will authenticate with bootstrap token "abcdef"$/m);
    assert.match(r.stdout, /^PASS {2}tls +TLS handshake with 127\.0\.0\.1:19742 \(server certificate verified\)$/m);
    assert.match(r.stdout, /^PASS {2}cluster-info +read kube-public\/cluster-info over verified TLS: it names the same API server$/m);
    assert.match(r.stdout, /^PASS {2}token +the API server accepts bootstrap token "abcdef"$/m);
    assert.match(r.stdout, new RegExp(`discovery ok: API server v1\\.32\\.11 at 127\\.0\\.0\\.1:19742 \\(file ${good}\\), token "abcdef" valid, CA ${pin} from the discovery file`));
  });

  test('a kubeconfig of another cluster: TLS fails verification, named as such', async () => {
    const other = makePki('other-cluster');
    try {
      const f = path.join(t.root, 'other.conf');
      writeFileSync(f, clusterInfoKubeconfig(other.caPem, cp.url));
      const r = await discover({ kubeConfigPath: f, token: TOKEN });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^FAIL {2}tls +TLS with 127\.0\.0\.1:19742 failed: .* \(hint: the API server's certificate is not signed by the CA in .*other\.conf: a different cluster, an outdated file, or the connection is intercepted/m);
      assert.match(r.stdout, /discovery failed at tls/);
    } finally {
      rmSync(other.dir, { recursive: true, force: true });
    }
  });

  test('an unknown or expired token: refused by the API server (401), named with the next action', async () => {
    const r = await discover({ kubeConfigPath: good, token: UNKNOWN });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL {2}token +bootstrap token "zzzzzz" is unknown or expired: the API server refused it \(401\) \(hint: tokens live 24h: run `kubeadm token create`/m);
  });

  test('credentials inside the kubeconfig need no token', async () => {
    const f = path.join(t.root, 'with-token.conf');
    writeFileSync(f, clusterInfoKubeconfig(cp.caPem, cp.url).replace('contexts: null\ncurrent-context: ""', 'contexts:\n- context:\n    cluster: ""\n    user: bootstrap\n  name: join\ncurrent-context: join').replace('users: null', `users:\n- name: bootstrap\n  user:\n    token: ${TOKEN}`));
    const r = await discover({ kubeConfigPath: f });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^PASS {2}credentials +the API server accepts the kubeconfig's token \(user "bootstrap"\)$/m);
  });

  test('an https:// kubeConfigPath is fetched and verified with the host\'s CA bundle ($SSL_CERT_FILE, as Go does)', async () => {
    const web = makePki('web-ca');
    const cert = web.issue({ cn: 'config.test', sans: ['IP:127.0.0.1'] });
    const srv = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (_q, res) => res.end(clusterInfoKubeconfig(cp.caPem, cp.url)));
    await new Promise<void>((r) => srv.listen(URL_PORT, '127.0.0.1', r));
    try {
      const url = `https://127.0.0.1:${URL_PORT}/discovery.conf`;
      const ok = await discover({ kubeConfigPath: url, token: TOKEN }, { ...process.env, SSL_CERT_FILE: web.caCert });
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, new RegExp(`^PASS  file +${url.replace(/[.]/g, '\\.')}: cluster \\(unnamed\\) at ${cp.url}`, 'm'));
      const untrusted = await discover({ kubeConfigPath: url, token: TOKEN }, { ...process.env, SSL_CERT_FILE: cp.caFile });
      assert.equal(untrusted.code, 1);
      assert.match(untrusted.stdout, /^FAIL {2}file +cannot fetch https:\/\/127\.0\.0\.1:19743\/discovery\.conf: TLS with 127\.0\.0\.1:19743 failed/m);
    } finally {
      srv.close();
      rmSync(web.dir, { recursive: true, force: true });
    }
  });
});

describe('join with discovery.file and the stand-in kubeadm (built binary)', () => {
  let cp: ControlPlane;
  let t: ReturnType<typeof tempRoot>;
  before(async () => {
    cp = await startControlPlane({ port: 19744, tokens: [TOKEN] });
    t = tempRoot();
  });
  afterEach(async () => {
    stopKubelet(t.root);
    await runCmd(path.join(STANDINS, 'kubeadm'), ['reset', '--force'], agentEnv(t.root));
  });
  after(async () => {
    await cp.close();
    t.cleanup();
  });

  test('kubeadm joins through the file; the rendered config carries tlsBootstrapToken only while it runs', async () => {
    const kcp = path.join(t.root, 'discovery.conf');
    writeFileSync(kcp, clusterInfoKubeconfig(cp.caPem, cp.url));
    mkdirSync(path.join(t.root, 'secrets'), { recursive: true });
    const tokenFile = path.join(t.root, 'secrets/token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const cfg = writeFileConfig(t.root, { kubeConfigPath: kcp, tokenFile, joinExtra: 'nodeRegistration:\n  name: w-file\n' });
    const r = await runBinary(['run', '--once', '--config', cfg, '--root', t.root, '--only', 'discovery,node-ip,join,join-cleanup,node-ready'], agentEnv(t.root));
    noSecret(r);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(cp.nodes.get('w-file'), 'the stand-in kubelet registered the Node');
    assert.ok(cp.requests.some((q) => q.path === '/apis/certificates.k8s.io/v1/certificatesigningrequests' && q.auth === 'token'), 'the TLS bootstrap used the bootstrap token');
    const rendered = readFileSync(path.join(t.root, 'var/lib/joinagent/kubeadm-join.yaml'), 'utf8');
    assert.match(rendered, new RegExp(`discovery:\\n  file:\\n    kubeConfigPath: ${kcp}\\n`));
    assert.doesNotMatch(rendered, /bootstrapToken|tlsBootstrapToken/, 'no token method added, the token removed after the join');
    assert.equal(readFileSync(path.join(t.root, 'etc/kubernetes/pki/ca.crt'), 'utf8'), cp.caPem, 'kubeadm took the CA from the discovery file');
    const state = JSON.parse(readFileSync(path.join(t.root, 'var/lib/joinagent/state.json'), 'utf8')) as { published: { discovery?: { method?: string; apiServer?: string } } };
    assert.deepEqual([state.published.discovery?.method, state.published.discovery?.apiServer], [`file ${kcp}`, '127.0.0.1:19744']);
  });

  test('sabotage: the stand-in kubeadm refuses a file of another cluster, and one without credentials, as kubeadm does', async () => {
    const other = makePki('other-cluster');
    const before = cp.nodes.size;
    try {
      const wrong = path.join(t.root, 'wrong.conf');
      writeFileSync(wrong, clusterInfoKubeconfig(other.caPem, cp.url));
      const join = (kcp: string, token?: string): Promise<Result> => {
        const cfg = path.join(t.root, 'kubeadm.yaml');
        writeFileSync(cfg, `apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  file:\n    kubeConfigPath: ${kcp}\n${token ? `  tlsBootstrapToken: ${token}\n` : ''}`);
        return runCmd(path.join(STANDINS, 'kubeadm'), ['join', '--config', cfg], agentEnv(t.root));
      };
      const x509 = await join(wrong, TOKEN);
      assert.equal(x509.code, 1);
      assert.match(x509.stderr, /couldn't validate the identity of the API Server: .*x509: certificate signed by unknown authority/);
      const good = path.join(t.root, 'good.conf');
      writeFileSync(good, clusterInfoKubeconfig(cp.caPem, cp.url));
      const noCreds = await join(good);
      assert.equal(noCreds.code, 1);
      assert.match(noCreds.stderr, /couldn't find authentication credentials for the TLS boostrap process/);
      assert.equal(cp.nodes.size, before, 'nothing joined');
    } finally {
      rmSync(other.dir, { recursive: true, force: true });
    }
  });
});
