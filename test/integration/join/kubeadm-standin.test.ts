import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { startFakeCri } from './fake-cri.js';
import { agentEnv, runCmd, STANDINS, stopKubelet, tempRoot, TOKEN, type Result } from './harness.js';

// The kubeadm stand-in itself (no agent): it must refuse what kubeadm v1.32 refuses, in
// kubeadm's words, and hand the kubelet a bootstrap kubeconfig that really carries the
// token. Each case is a sabotage of a config or host that otherwise joins.
const KUBEADM = path.join(STANDINS, 'kubeadm');
const KUBELET_PORT = 19733;

describe('kubeadm stand-in: strict config, pre-flight, discovery, hand-off', () => {
  let cp: ControlPlane;
  const roots: { root: string; cleanup: () => void }[] = [];
  const fresh = (): string => {
    const t = tempRoot();
    roots.push(t);
    return t.root;
  };
  before(async () => {
    cp = await startControlPlane({ port: 19734, tokens: [TOKEN] });
  });
  afterEach(async () => {
    for (const t of roots.splice(0)) {
      stopKubelet(t.root);
      await runCmd(KUBEADM, ['reset', '--force'], agentEnv(t.root, KUBELET_PORT));
      t.cleanup();
    }
  });
  after(() => cp.close());

  const v1beta4 = (o: { bt?: string; nr?: string; extra?: string } = {}): string =>
    `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    token: "${TOKEN}"
    apiServerEndpoint: "${cp.endpoint}"
${o.bt ?? `    caCertHashes: ["${cp.caHash}"]\n`}nodeRegistration:
  name: w-standin
  criSocket: unix:///run/containerd/containerd.sock
${o.nr ?? ''}${o.extra ?? ''}`;
  const join = (root: string, config: string, args: string[] = []): Promise<Result> => {
    const file = path.join(root, 'join.yaml');
    writeFileSync(file, config, { mode: 0o600 });
    return runCmd(KUBEADM, ['join', '--config', file, ...args], agentEnv(root, KUBELET_PORT));
  };

  test('config: old apiVersion, other kinds, shapes and types fail as kubeadm does; unknown fields only warn', async () => {
    const root = fresh();
    let r = await join(root, v1beta4().replace('v1beta4', 'v1beta2'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /your configuration file uses an old API spec: "kubeadm\.k8s\.io\/v1beta2" \(kind: "JoinConfiguration"\)\. Please use kubeadm v1\.22 instead/);
    r = await join(root, 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no JoinConfiguration found in the supplied config/);
    r = await join(root, v1beta4({ nr: '  kubeletExtraArgs:\n    node-ip: 10.0.0.5\n' }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /json: cannot unmarshal object into Go struct field NodeRegistrationOptions\.nodeRegistration\.kubeletExtraArgs of type \[\]v1beta4\.Arg/);
    r = await join(root, v1beta4({ nr: '  kubeletExtraArgs:\n  - name: node-ip\n    value: 10.0.0.5\n' }).replace('v1beta4', 'v1beta3'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /json: cannot unmarshal array into Go struct field NodeRegistrationOptions\.nodeRegistration\.kubeletExtraArgs of type map\[string\]string/);
    r = await join(root, v1beta4({ bt: '    unsafeSkipCAVerification: "true"\n' }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot unmarshal string into Go struct field BootstrapTokenDiscovery\.discovery\.bootstrapToken\.unsafeSkipCAVerification of type bool/);
    r = await join(root, v1beta4({ extra: 'timeouts:\n  discovery: 1m\n' }).replace('v1beta4', 'v1beta3') + 'agentSetting: 1\n', ['--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /deprecated API spec: "kubeadm\.k8s\.io\/v1beta3"/);
    assert.match(r.stderr, /error unmarshaling configuration schema\.GroupVersionKind\{Group:"kubeadm\.k8s\.io", Version:"v1beta3", Kind:"JoinConfiguration"\}: strict decoding error: unknown field "agentSetting", unknown field "timeouts"/);
  });

  test('validation and discovery: malformed token, malformed pin, wrong pin, wrong secret', async () => {
    const root = fresh();
    let r = await join(root, v1beta4().replace(TOKEN, 'abcdef.short'), ['--dry-run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /discovery\.bootstrapToken\.token: Invalid value: "abcdef\.short": the bootstrap token is invalid/);
    r = await join(root, v1beta4({ bt: '' }), ['--dry-run']);
    assert.match(r.stderr, /using token-based discovery without caCertHashes can be unsafe/);
    r = await join(root, v1beta4({ bt: '    caCertHashes: ["sha256:abcd"]\n' }), ['--dry-run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /couldn't validate the identity of the API Server: invalid discovery token CA certificate hash: expected a 32 byte SHA-256 hash, found 2 bytes/);
    r = await join(root, v1beta4({ bt: `    caCertHashes: ["md5:${'0'.repeat(64)}"]\n` }), ['--dry-run']);
    assert.match(r.stderr, /unknown hash format "md5"/);
    r = await join(root, v1beta4({ bt: `    caCertHashes: ["sha256:${'0'.repeat(64)}"]\n` }), ['--dry-run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:[0-9a-f]{64}" are pinned/);
    r = await join(root, v1beta4().replace(TOKEN, `${TOKEN.split('.')[0]}.aaaaaaaaaaaaaaaa`), ['--dry-run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /failed to verify JWS signature of received cluster info object, can't trust this API Server/);
    r = await join(root, v1beta4(), ['--dry-run']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('pre-flight: ip_forward 0 is fatal, ignorable by name (flag or config) or all; leftovers; a CRI that is not ready', async () => {
    const root = fresh();
    writeFileSync(path.join(root, 'proc/sys/net/ipv4/ip_forward'), '0\n');
    let r = await join(root, v1beta4());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error execution phase preflight: \[preflight\] Some fatal errors occurred:\n\t\[ERROR FileContent--proc-sys-net-ipv4-ip_forward\]: \/proc\/sys\/net\/ipv4\/ip_forward contents are not set to 1\n\[preflight\] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=\.\.\.`/);
    assert.ok(!existsSync(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf')), 'pre-flight stops before kubelet-start');
    r = await join(root, v1beta4({ nr: '  ignorePreflightErrors: [all, Swap]\n' }));
    assert.match(r.stderr, /don't specify individual checks if 'all' is used/);
    // a leftover kubelet.conf and a CRI that answers but is not ready, in one listing
    mkdirSync(path.join(root, 'etc/kubernetes'), { recursive: true });
    writeFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'old\n');
    const sock = path.join(root, 'run/containerd/notready.sock');
    const cri = startFakeCri(sock, { ready: false });
    try {
      r = await join(root, v1beta4().replace('containerd/containerd.sock', 'containerd/notready.sock'), ['--ignore-preflight-errors=FileContent--proc-sys-net-ipv4-ip_forward']);
    } finally {
      cri.close();
    }
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\t\[WARNING FileContent--proc-sys-net-ipv4-ip_forward\]: \/proc\/sys\/net\/ipv4\/ip_forward contents are not set to 1/);
    assert.match(r.stderr, /\t\[ERROR FileAvailable--etc-kubernetes-kubelet\.conf\]: \/etc\/kubernetes\/kubelet\.conf already exists/);
    assert.match(r.stderr, /\t\[ERROR CRI\]: container runtime condition "RuntimeReady" is not true\. reason: ContainerdNotReady, message: /);
    // no runtime on the socket: kubeadm v1.32 cannot connect, only warns, and runs no CRI check
    rmSync(path.join(root, 'etc/kubernetes/kubelet.conf'));
    r = await join(root, v1beta4().replace('containerd/containerd.sock', 'containerd/typo.sock'));
    assert.match(r.stderr, /\[preflight\] WARNING: Couldn't create the interface used for talking to the container runtime: failed to create new CRI runtime service: validate service connection: validate CRI v1 runtime API for endpoint "unix:\/\/\/run\/containerd\/typo\.sock": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix \/run\/containerd\/typo\.sock: connect: no such file or directory"/);
    assert.doesNotMatch(r.stderr, /\[ERROR CRI\]/);
    assert.match(r.stderr, /\[ERROR FileContent--proc-sys-net-ipv4-ip_forward\]/);
  });

  test('hand-off: the kubelet does the TLS bootstrap with the token kubeadm wrote; kubeadm removes bootstrap-kubelet.conf', async () => {
    const root = fresh();
    const before = cp.requests.length;
    const r = await join(root, v1beta4({ nr: '  ignorePreflightErrors: [Swap]\n  kubeletExtraArgs:\n  - name: node-ip\n    value: 10.1.2.3\n  - name: v\n    value: "2"\n', extra: 'timeouts:\n  kubeletHealthCheck: 30s\n' }));
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /\[kubelet-check\] Waiting for a healthy kubelet at http:\/\/127\.0\.0\.1:19733\/healthz\. This can take up to 30s/);
    assert.match(r.stdout, /\[kubelet-start\] Waiting for the kubelet to perform the TLS Bootstrap\n[\s\S]*This node has joined the cluster/);
    assert.ok(!existsSync(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf')), 'bootstrap-kubelet.conf removed after the bootstrap');
    // the CSR came with the bootstrap token: the kubelet could only read it from bootstrap-kubelet.conf
    const csr = cp.requests.slice(before).filter((q) => q.method === 'POST' && q.path === '/apis/certificates.k8s.io/v1/certificatesigningrequests');
    assert.deepEqual(csr.map((q) => q.auth), ['token']);
    const pki = path.join(root, 'var/lib/kubelet/pki');
    assert.ok(lstatSync(path.join(pki, 'kubelet-client-current.pem')).isSymbolicLink());
    assert.match(readlinkSync(path.join(pki, 'kubelet-client-current.pem')), /kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/);
    assert.match(readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'utf8'), /client-certificate: \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem/);
    assert.equal(readFileSync(path.join(root, 'var/lib/kubelet/kubeadm-flags.env'), 'utf8'), 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --hostname-override=w-standin --node-ip=10.1.2.3 --pod-infra-container-image=registry.k8s.io/pause:3.10 --v=2"\n');
    assert.ok(cp.nodes.get('w-standin'), 'the kubelet registered its Node with the certificate it bootstrapped');
  });

  test('kubelet-check: a kubelet that never serves healthz fails the phase in kubeadm\'s words; bootstrap-kubelet.conf is removed anyway', async () => {
    const root = fresh();
    const file = path.join(root, 'join.yaml');
    writeFileSync(file, v1beta4({ nr: '  name: w-unhealthy\n', extra: 'timeouts:\n  kubeletHealthCheck: 3s\n' }).replace('  name: w-standin\n', ''), { mode: 0o600 });
    // no busybox: the kubelet stand-in cannot serve its healthz
    const r = await runCmd(KUBEADM, ['join', '--config', file], { ...agentEnv(root, KUBELET_PORT), BUSYBOX: '/nonexistent/busybox' });
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /\[kubelet-check\] The kubelet is not healthy after \d+s\n\nUnfortunately, an error has occurred:\n\tThe HTTP call equal to 'curl -sSL http:\/\/127\.0\.0\.1:19733\/healthz' returned error: [^\n]*\n\nThis error is likely caused by:\n\t- The kubelet is not running/);
    assert.match(r.stderr, /error execution phase kubelet-start: The HTTP call equal to 'curl -sSL http:\/\/127\.0\.0\.1:19733\/healthz' returned error/);
    assert.ok(!existsSync(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf')), 'the token is not left on disk after a failed kubelet-start');
  });
});
