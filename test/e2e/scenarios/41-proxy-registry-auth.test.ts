import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { makePki } from '../../fixtures/pki.js';
import { pushTinyImages, startRegistry as startFixtureRegistry, type RegistryHandle } from '../../fixtures/registry.js';
import { ensureBinary, k8sImages, waitForStatus } from '../harness/agent.js';
import { assertHostPrepared, assertJoined } from '../harness/assertions.js';
import { cleanupAll, onCleanup } from '../harness/cleanup.js';
import { distroSources } from '../harness/distro-repo.js';
import { renderConfig } from '../harness/config.js';
import { blockFromNode } from '../harness/net.js';
import { startSquid, type SiteProxy } from '../harness/proxy.js';
import { log, scenario } from '../harness/scenario.js';
import { sh } from '../harness/sh.js';
import { startWorld, type World } from '../harness/world.js';

// A site whose nodes reach the package repository and the registries only through an
// authenticating proxy (Debian's squid on the node's link; the node's own packets to
// those ports are dropped, and only squid resolves their names), and whose own registry
// serves TLS from a private CA, wants a client certificate and basic auth (Debian's
// docker-registry). The API server is reached directly. The two scenarios share one node:
// the second re-points the images at the private registry on the node the first joined.
const SLOT = 41;
const CONFIG = '/root/joinagent.yaml';
const PROXY_PASSWORD = `Pr0xy-${randomBytes(6).toString('hex')}`;
const REGISTRY_PASSWORD = `Reg-${randomBytes(6).toString('hex')}`;
const REGY = 'regy.proxied.test:5443';
let w: World | undefined;
let squid: SiteProxy | undefined;
let regy: RegistryHandle | undefined;
let caPem = '';
let client = { certPem: '', keyPem: '' };
let binary = '';

before(async () => {
  binary = await ensureBinary(log);
  w = await startWorld({ slot: SLOT, log });
  const host = w.node.link.host;
  squid = await startSquid({ host, port: 3128, user: 'e2e-proxy', password: PROXY_PASSWORD, names: { 'repo.proxied.test': host, 'registry.proxied.test': host, 'regy.proxied.test': host } });
  // the private registry: a certificate for its name from a CA only the site trusts
  const dir = await fs.mkdtemp('/var/tmp/ja-e2e-regy-');
  onCleanup('private registry dir', () => fs.rm(dir, { recursive: true, force: true }));
  const pki = makePki('site registry CA', dir);
  const cert = pki.issue({ cn: 'regy.proxied.test', sans: ['DNS:regy.proxied.test'] });
  caPem = pki.caPem;
  // mutual TLS as well: the registry takes only clients with a certificate from its CA
  client = pki.issue({ cn: 'worker-node', client: true });
  const certDir = path.join(dir, 'push-certs');
  await fs.mkdir(certDir);
  await fs.writeFile(path.join(certDir, 'client.cert'), client.certPem);
  await fs.writeFile(path.join(certDir, 'client.key'), client.keyPem);
  await fs.writeFile(path.join(dir, 'htpasswd'), (await sh('htpasswd', ['-Bbn', 'e2e', REGISTRY_PASSWORD])).stdout);
  regy = await startFixtureRegistry({ host, port: 5443, dir: path.join(dir, 'registry'), tls: { cert: cert.certFile, key: cert.keyFile, clientCa: pki.caCert }, htpasswd: path.join(dir, 'htpasswd') });
  onCleanup('private registry', () => regy!.stop());
  await pushTinyImages({ registry: `${host}:5443`, images: ['k8s/kube-proxy:v1.32.11', 'k8s/pause:3.10'], creds: `e2e:${REGISTRY_PASSWORD}`, certDir });
  await blockFromNode(SLOT, [8080, 5000, 5443]);
  // the site's distribution mirror (kubelet's iptables) is reached through the proxy too
  await w.node.writeFile('/etc/apt/sources.list.d/debian.sources', distroSources('http://repo.proxied.test:8080/debian/distro'));
});
after(cleanupAll);

const proxySection = (): string => `proxy:\n  http: ${squid!.url}\n  https: ${squid!.url}\n  clusterCIDRs: [10.244.0.0/16, 10.96.0.0/12]`;
const config = (extra = '', imageRepository?: string): string =>
  renderConfig({
    host: w!.node.link.host,
    repoUrl: 'http://repo.proxied.test:8080/debian/',
    // a URL key: the agent downloads it itself, through the proxy
    repoKeyPath: 'http://repo.proxied.test:8080/debian/Release.key',
    registry: 'registry.proxied.test:5000',
    caCertHash: w!.cp?.caCertHash,
    token: w!.token,
    imageRepository,
    extra: proxySection() + extra,
  });

// Every file on the node that holds the secret is 0600 and one joinagent meant to write
// (the consumer's file, or joinagent's own backup copy of it); no log or journal has it.
async function assertSecretKept(secret: string, allowed: RegExp, shown: string[]): Promise<void> {
  const { node } = w!;
  for (const s of shown) assert.ok(!s.includes(secret), `secret shown in output:\n${s.slice(0, 2000)}`);
  const files = (await node.exec(['grep', '-rlF', secret, '/etc', '/var/lib/joinagent', '/var/log', '/run/joinagent', '/root'], { allowFailure: true })).stdout.split('\n').filter(Boolean);
  for (const f of files) {
    if (f === CONFIG) continue; // the operator's own config file (0600)
    assert.match(f, allowed, `unexpected file holds the secret: ${f}`);
    assert.equal((await node.exec(['stat', '-c', '%a', f])).stdout.trim(), '600', `${f} holds the secret: must be 0600`);
  }
  const journal = (await node.exec(['journalctl', '--no-pager', '-o', 'cat'], { allowFailure: true })).stdout;
  assert.ok(!journal.includes(secret), 'secret in the journal');
}

scenario('proxy: packages, the repository key and images come through an authenticating proxy; the API server directly', async () => {
  const { node } = w!;
  const host = node.link.host;
  // the premise: no direct route, and the proxy is the way
  assert.equal((await node.exec(['curl', '-sS', '--max-time', '3', `http://${host}:8080/debian/Release`], { allowFailure: true })).exitCode, 28, 'direct to the repository: dropped');
  assert.equal((await node.exec(['curl', '-sS', '--max-time', '3', 'http://repo.proxied.test:8080/debian/Release'], { allowFailure: true })).exitCode, 6, 'the repository\'s name does not resolve on the node');
  assert.equal((await node.exec(['curl', '-sS', '-o', '/dev/null', '--max-time', '5', '-x', squid!.url, 'http://repo.proxied.test:8080/debian/Release'], { allowFailure: true })).exitCode, 0, 'through the proxy it answers');
  assert.equal((await node.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-x', `http://${host}:3128`, 'http://repo.proxied.test:8080/debian/Release'], { allowFailure: true })).stdout, '407', 'the proxy wants credentials');

  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, config(), 0o600);
  const plan = await node.exec(['/root/joinagent', 'plan', '--config', CONFIG], { allowFailure: true, timeoutMs: 120_000 });
  assert.match(plan.stdout, /^proxy +would change/m, plan.stdout + plan.stderr);
  assert.match(plan.stdout, /HTTPS_PROXY=http:\/\/e2e-proxy:<redacted>@/);
  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  await assertHostPrepared(node);
  await assertJoined(w!);
  assert.deepEqual(await k8sImages(node), ['registry.k8s.io/kube-proxy:v1.32.11', 'registry.k8s.io/pause:3.10']);

  // containerd runs with the proxy in its environment (the drop-in, loaded and restarted)
  const pid = (await node.exec(['systemctl', 'show', '-p', 'MainPID', '--value', 'containerd'])).stdout.trim();
  const env = (await node.exec(['sh', '-c', `tr '\\0' '\\n' < /proc/${pid}/environ`])).stdout;
  assert.match(env, new RegExp(`^HTTPS_PROXY=http://e2e-proxy:${PROXY_PASSWORD}@${host.replaceAll('.', '\\.')}:3128$`, 'm'));
  assert.match(env, new RegExp(`^NO_PROXY=localhost,127\\.0\\.0\\.1,::1,\\.svc,\\.svc\\.cluster\\.local,${host.replaceAll('.', '\\.')},${node.link.node.replaceAll('.', '\\.')},worker-${SLOT},10\\.244\\.0\\.0/16,10\\.96\\.0\\.0/12$`, 'm'));
  assert.match((await node.exec(['systemctl', 'show', '-p', 'Environment', 'kubelet'])).stdout, /HTTPS_PROXY=http:\/\/e2e-proxy:/, 'kubelet gets it too');
  assert.match((await node.exec(['cat', '/etc/apt/apt.conf.d/95joinagent-proxy'])).stdout, /^Acquire::http::Proxy "http:\/\/e2e-proxy:/m);

  // the proxy's own record: apt's index, the agent's key download and containerd's pulls
  // went through it as the configured user; the API server did not
  const access = await squid!.accessLog();
  for (const re of [/GET http:\/\/repo\.proxied\.test:8080\/debian\/InRelease e2e-proxy/, /GET http:\/\/repo\.proxied\.test:8080\/debian\/Release\.key e2e-proxy/, /(HEAD|GET) http:\/\/registry\.proxied\.test:5000\/v2\/kube-proxy\/manifests\/v1\.32\.11\?? e2e-proxy/]) {
    assert.match(access, re, `squid access log:\n${access}`);
  }
  assert.doesNotMatch(access, /:6443/, 'the API server is never proxied');

  // the agent's own discovery with the proxy configured: straight to the API server
  const d = await node.exec(['/root/joinagent', 'discover', '--config', CONFIG], { allowFailure: true, timeoutMs: 60_000 });
  assert.equal(d.exitCode, 0, d.stdout + d.stderr);
  assert.match(d.stdout.split('\n')[0], new RegExp(`^proxy: not used: the API server ${host.replaceAll('.', '\\.')}:6443 is in NO_PROXY`));
  assert.doesNotMatch(await squid!.accessLog(), /:6443/, 'discovery did not go through the proxy');

  await node.exec(['systemd-run', '--unit=joinagent-adhoc', '/root/joinagent', 'run', '--config', CONFIG]);
  const s = await waitForStatus(node, 'ready', (d) => d.ready, 120_000);
  assert.deepEqual(s.steps.find((x) => x.id === 'proxy')?.state, 'ok');
  const published = s.published.proxy as { https?: string; noProxy?: string[] };
  assert.equal(published.https, `http://e2e-proxy:<redacted>@${host}:3128`);
  assert.ok(published.noProxy?.includes(host), '/status lists the API server as direct');
  await node.exec(['systemctl', 'stop', 'joinagent-adhoc'], { allowFailure: true });
  await assertSecretKept(PROXY_PASSWORD, /^(\/etc\/systemd\/system\/(containerd|kubelet)\.service\.d\/http-proxy\.conf|\/etc\/apt\/apt\.conf\.d\/95joinagent-proxy|\/var\/lib\/joinagent\/backup\/.*)$/, [plan.stdout, plan.stderr, r.stdout, r.stderr, JSON.stringify(s)]);
}, () => w?.node);

scenario('registry-auth: images from a registry with TLS from a private CA, a client certificate and basic auth; wrong password named, then pulled', async () => {
  const { node } = w!;
  await node.writeFile('/etc/joinagent/site-ca.pem', caPem, 0o644);
  await node.writeFile('/etc/joinagent/registry-password', 'not-the-password\n', 0o600);
  await node.writeFile('/etc/joinagent/node.crt', client.certPem, 0o644);
  await node.writeFile('/etc/joinagent/node.key', client.keyPem, 0o600);
  const registries = `\nregistries:\n  ${REGY}:\n    ca: /etc/joinagent/site-ca.pem\n    clientCert: /etc/joinagent/node.crt\n    clientKey: /etc/joinagent/node.key\n    username: e2e\n    passwordFile: /etc/joinagent/registry-password`;
  await node.writeFile(CONFIG, config(registries, `${REGY}/k8s`), 0o600);

  // skipVerify is accepted, with a warning
  await node.writeFile('/root/skip.yaml', config(`\nregistries:\n  ${REGY}:\n    skipVerify: true`), 0o600);
  const v = await node.exec(['/root/joinagent', 'validate', '--config', '/root/skip.yaml'], { allowFailure: true });
  assert.equal(v.exitCode, 0, v.stdout + v.stderr);
  assert.match(v.stdout + v.stderr, /warning: registries\.regy\.proxied\.test:5443\.skipVerify: containerd will not verify the TLS certificate/);

  const bad = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(bad.exitCode, 1, `a wrong password fails the run:\n${bad.stdout}\n${bad.stderr}`);
  assert.match(bad.stdout + bad.stderr, /registry regy\.proxied\.test:5443 refused the credentials/);
  assert.match(bad.stdout + bad.stderr, /registries\.\\?"regy\.proxied\.test:5443\\?"/);

  await node.writeFile('/etc/joinagent/registry-password', `${REGISTRY_PASSWORD}\n`, 0o600);
  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  const images = await k8sImages(node);
  for (const i of [`${REGY}/k8s/kube-proxy:v1.32.11`, `${REGY}/k8s/pause:3.10`]) assert.ok(images.includes(i), `${i} pulled (have ${images.join(', ')})`);
  assert.match((await node.exec(['containerd', 'config', 'dump'])).stdout, new RegExp(`sandbox_image = "${REGY}/k8s/pause:3\\.10"`));

  // containerd's own formats: hosts.toml with the CA, config.toml with the credentials (0600)
  const hostsToml = (await node.exec(['cat', `/etc/containerd/certs.d/${REGY}/hosts.toml`])).stdout;
  assert.match(hostsToml, /^ +ca = "\/etc\/joinagent\/site-ca\.pem"$/m);
  assert.match(hostsToml, /^ +client = \[\["\/etc\/joinagent\/node\.crt", "\/etc\/joinagent\/node\.key"\]\]$/m);
  // the registry really demands the client certificate: without it the TLS handshake fails
  const noCert = await node.exec(['curl', '-sS', '--max-time', '5', '--cacert', '/etc/joinagent/site-ca.pem', '-x', squid!.url, '-u', `e2e:${REGISTRY_PASSWORD}`, `https://${REGY}/v2/`], { allowFailure: true });
  assert.notEqual(noCert.exitCode, 0, 'no client certificate, no answer');
  const withCert = await node.exec(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '--cacert', '/etc/joinagent/site-ca.pem', '--cert', '/etc/joinagent/node.crt', '--key', '/etc/joinagent/node.key', '-x', squid!.url, '-u', `e2e:${REGISTRY_PASSWORD}`, `https://${REGY}/v2/`], { allowFailure: true });
  assert.equal(withCert.stdout, '200', withCert.stderr);
  const toml = (await node.exec(['cat', '/etc/containerd/config.toml'])).stdout;
  assert.match(toml, new RegExp(`^ *\\[plugins\\."io\\.containerd\\.grpc\\.v1\\.cri"\\.registry\\.configs\\."${REGY.replaceAll('.', '\\.')}"\\.auth\\]\\n *username = "e2e"\\n *password = "${REGISTRY_PASSWORD}"`, 'm'));
  assert.equal((await node.exec(['stat', '-c', '%a', '/etc/containerd/config.toml'])).stdout.trim(), '600');

  // the registry saw the user, over TLS, through the proxy's tunnel
  assert.match(await fs.readFile(regy!.log, 'utf8'), /auth\.user\.name="?e2e"?.*k8s\/pause/);
  assert.match(await squid!.accessLog(), /CONNECT regy\.proxied\.test:5443 e2e-proxy/);

  const plan = await node.exec(['/root/joinagent', 'plan', '--config', CONFIG], { allowFailure: true, timeoutMs: 120_000 });
  assert.match(plan.stdout, /plan: everything is ok/, plan.stdout + plan.stderr);
  await assertSecretKept(REGISTRY_PASSWORD, /^(\/etc\/containerd\/config\.toml|\/etc\/joinagent\/registry-password|\/var\/lib\/joinagent\/backup\/.*)$/, [bad.stdout, bad.stderr, r.stdout, r.stderr, plan.stdout]);
}, () => w?.node);
