import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { classifyJoinFailure } from '../../../src/join/kubeadm-output.js';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { agentEnv, BINARY, runBinary, runCmd, SECRET, STANDINS, stopKubelet, tempRoot, TOKEN, writeConfig } from './harness.js';

// The join step through the built binary with the stand-in kubeadm and kubelet on
// PATH, everything under a temp root (--root / STANDIN_ROOT).
// Host and runtime steps are proven elsewhere (unit tests, runtime integration, booted
// nodes); here only the join steps run (--only), so the temp root needs no fake host.
const STATUS_PORT = 19739;
const ONLY = ['--only', 'discovery,node-ip,join,join-cleanup,node-ready'];

function getStatus(): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: STATUS_PORT, path: '/status', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

type Step = { id: string; state: string; message?: string; hint?: string; progress?: string };
const stepOf = (doc: Record<string, unknown>, id: string): Step => (doc.steps as Step[]).find((s) => s.id === id)!;
const state = (root: string): { steps: Record<string, Step>; published: Record<string, unknown> } => JSON.parse(readFileSync(path.join(root, 'var/lib/joinagent/state.json'), 'utf8'));
const nodeName = (n: string): string => `nodeRegistration:\n  name: ${n}\n`;

describe('join step with the stand-in kubeadm (built binary)', () => {
  let cp: ControlPlane;
  const roots: { root: string; cleanup: () => void }[] = [];
  const fresh = (): string => {
    const t = tempRoot();
    roots.push(t);
    return t.root;
  };
  before(async () => {
    cp = await startControlPlane({ port: 19745, tokens: [TOKEN] });
  });
  afterEach(async () => {
    for (const t of roots.splice(0)) {
      stopKubelet(t.root);
      await runCmd(path.join(STANDINS, 'kubeadm'), ['reset', '--force'], agentEnv(t.root));
      t.cleanup();
    }
  });
  after(() => cp.close());

  test('happy path: files, phases in /status, Node Ready; re-run changes nothing; token gone', async () => {
    const root = fresh();
    mkdirSync(path.join(root, 'secrets'));
    const tokenFile = path.join(root, 'secrets/token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const cfg = writeConfig(root, { endpoint: cp.endpoint, tokenFile, caCertHashes: [cp.caHash], joinExtra: nodeName('w-happy'), agentExtra: '  sentinelFile: /run/cluster-api/bootstrap-success.complete\n' });
    const env = agentEnv(root);
    // the daemon, so /status can be read after the join
    const daemon = spawn(BINARY, ['run', ...ONLY, '--config', cfg, '--root', root, '--log-format', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    daemon.stdout.on('data', (c: Buffer) => (log += c.toString()));
    daemon.stderr.on('data', (c: Buffer) => (log += c.toString()));
    let doc: Record<string, unknown> | undefined;
    for (let i = 0; i < 300 && !(doc?.ready === true || doc?.phase === 'failed'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      doc = await getStatus();
    }
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('close', r));
    assert.equal(doc?.ready, true, `${JSON.stringify(doc, null, 2)}\n${log}`);
    assert.equal(doc.joined, true);
    assert.equal(stepOf(doc, 'join').state, 'changed');
    assert.equal(stepOf(doc, 'join').progress, 'joined: this node has joined the cluster');
    assert.equal((doc.node as { nodeIP?: string }).nodeIP, '127.0.0.1');
    const node = (doc.published as { node: { name: string; ready: boolean; podCIDR: string } }).node;
    assert.equal(node.name, 'w-happy');
    assert.equal(node.ready, true);
    assert.match(node.podCIDR, /^10\.244\.\d+\.0\/24$/);
    // kubeadm's phases, mapped, went through the one event stream (log and /status)
    for (const p of ['preflight: running pre-flight checks', 'kubelet-start: starting the kubelet', 'kubelet-check: waiting for a healthy kubelet', 'tls-bootstrap: waiting for the kubelet to perform the TLS bootstrap']) {
      assert.ok(log.includes(`join: ${p}`), `missing progress "${p}" in log`);
    }
    for (const f of ['etc/kubernetes/kubelet.conf', 'etc/kubernetes/pki/ca.crt', 'var/lib/kubelet/config.yaml', 'var/lib/kubelet/kubeadm-flags.env']) assert.ok(existsSync(path.join(root, f)), f);
    assert.match(readFileSync(path.join(root, 'var/lib/kubelet/kubeadm-flags.env'), 'utf8'), /--node-ip=127\.0\.0\.1/);
    const rendered = path.join(root, 'var/lib/joinagent/kubeadm-join.yaml');
    assert.equal(statSync(rendered).mode & 0o777, 0o600);
    assert.doesNotMatch(readFileSync(rendered, 'utf8'), /token:/);
    assert.match(readFileSync(rendered, 'utf8'), /name: node-ip\n\s+value: 127\.0\.0\.1/);
    assert.ok(!existsSync(tokenFile), 'join.tokenFile is removed after the join');
    assert.equal(readFileSync(path.join(root, 'run/cluster-api/bootstrap-success.complete'), 'utf8'), 'success');
    assert.ok(!log.includes(SECRET) && !readFileSync(path.join(root, 'var/lib/joinagent/state.json'), 'utf8').includes(SECRET));

    // re-run on the joined node: plan all ok, run --once changes nothing
    const plan = await runBinary(['plan', ...ONLY, '--config', cfg, '--root', root], env);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /plan: everything is ok; a run would change nothing/);
    const again = await runBinary(['run', '--once', ...ONLY, '--config', cfg, '--root', root, '--log-format', 'json'], env);
    assert.equal(again.code, 0, again.stderr);
    const st = state(root);
    for (const id of ['discovery', 'node-ip', 'join', 'join-cleanup', 'node-ready']) assert.equal(st.steps[id].state, 'ok', id);
    assert.match(st.steps.join.message ?? '', /^joined \(kubelet healthy, cluster CA sha256:/);

    // kubeadm's own contract: a second join fails pre-flight; joinagent maps it to a hint
    writeFileSync(path.join(root, 'again.yaml'), `apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    token: ${TOKEN}\n    apiServerEndpoint: ${cp.endpoint}\n    caCertHashes: ["${cp.caHash}"]\n`);
    const second = await runCmd(path.join(STANDINS, 'kubeadm'), ['join', '--config', path.join(root, 'again.yaml')], env);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /\[ERROR FileAvailable--etc-kubernetes-kubelet\.conf\]: \/etc\/kubernetes\/kubelet\.conf already exists/);
    const f = classifyJoinFailure(second.stdout + second.stderr, second.code);
    assert.equal(f.kind, 'already-joined');
    assert.match(f.message, /FileAvailable--etc-kubernetes-kubelet\.conf/);
    assert.match(f.hint, /kubeadm reset --force/);
  });

  test('unknown token: fails in discovery, kubeadm never runs, no secret in state.json', async () => {
    const root = fresh();
    const cfg = writeConfig(root, { endpoint: cp.endpoint, token: `zzzzzz.${SECRET}`, caCertHashes: [cp.caHash], joinExtra: nodeName('w-unknown') });
    const r = await runBinary(['run', '--once', ...ONLY, '--config', cfg, '--root', root, '--log-format', 'json'], agentEnv(root));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /discovery: token \\"zzzzzz\\" is unknown or expired/);
    assert.ok(!existsSync(path.join(root, 'etc/kubernetes/kubelet.conf')));
    const raw = readFileSync(path.join(root, 'var/lib/joinagent/state.json'), 'utf8');
    assert.ok(!raw.includes(SECRET) && !r.stdout.includes(SECRET) && !r.stderr.includes(SECRET));
    assert.match(state(root).steps.discovery.hint ?? '', /tokens live 24h/);
  });

  test('half-finished earlier join: reported; reset and joined with join.resetOnFailure', async () => {
    const root = fresh();
    mkdirSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
    copyFileSync(cp.caFile, path.join(root, 'etc/kubernetes/pki/ca.crt'));
    let cfg = writeConfig(root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash], joinExtra: nodeName('w-half') });
    let r = await runBinary(['run', '--once', ...ONLY, '--config', cfg, '--root', root], agentEnv(root));
    assert.equal(r.code, 1);
    const js = state(root).steps.join;
    assert.match(js.message ?? '', /a half-finished earlier join left \/etc\/kubernetes\/pki\/ca\.crt but no \/etc\/kubernetes\/kubelet\.conf/);
    assert.match(js.hint ?? '', /kubeadm reset --force.*join\.resetOnFailure: true/);
    cfg = writeConfig(root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash], joinExtra: nodeName('w-half'), agentExtra: '  resetOnFailure: true\n' });
    r = await runBinary(['run', '--once', ...ONLY, '--config', cfg, '--root', root], agentEnv(root));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(state(root).steps.join.state, 'changed');
    assert.match(state(root).steps.join.message ?? '', /kubeadm reset --force/);
  });

  test('a Ready Node of the same name exists: named, with what to do', async () => {
    const root = fresh();
    cp.nodes.set('w-dup', { metadata: { name: 'w-dup' }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    const cfg = writeConfig(root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash], joinExtra: nodeName('w-dup') });
    const r = await runBinary(['run', '--once', ...ONLY, '--config', cfg, '--root', root], agentEnv(root));
    assert.equal(r.code, 1);
    const js = state(root).steps.join;
    assert.equal(js.message, 'a Node named "w-dup" (status Ready) already exists in the cluster');
    assert.match(js.hint ?? '', /kubectl delete node w-dup/);
    assert.doesNotMatch(readFileSync(path.join(root, 'var/lib/joinagent/kubeadm-join.yaml'), 'utf8'), /token:/, 'a failed join leaves no token on disk');
  });

  test('no CNI within join.waitForReady: joined, but node-ready fails the run naming NetworkUnavailable', async () => {
    const root = fresh();
    cp.options.cniReady = false;
    try {
      const cfg = writeConfig(root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash], joinExtra: nodeName('w-nocni') });
      const r = await runBinary(['run', '--once', ...ONLY, '--config', cfg, '--root', root], agentEnv(root));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout + r.stderr, /node-ready: failed - joined, waiting for Ready: NetworkUnavailable/);
      const st = state(root);
      assert.equal(st.steps['node-ready'].state, 'failed');
      // issue 16: the cause, from the node's own state (no CNI config in this root)
      assert.equal(st.steps['node-ready'].message, 'joined, waiting for Ready: NetworkUnavailable; likely cause: no CNI network config in /etc/cni/net.d: the cluster\'s network add-on has not run on this node');
      assert.deepEqual((st.published.notReady as { cause: string }[]).map((c) => c.cause), ['no-cni-config']);
      assert.deepEqual({ ...(st.published.node as object), podCIDR: undefined }, { name: 'w-nocni', ready: false, reason: 'NetworkUnavailable', podCIDR: undefined });
      assert.equal(st.published.joined, true);
    } finally {
      cp.options.cniReady = true;
    }
  });

  test('run --dry-run: plan plus kubeadm join --dry-run, nothing written', async () => {
    const root = fresh();
    const cfg = writeConfig(root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash], joinExtra: nodeName('w-dry') });
    const r = await runBinary(['run', '--dry-run', ...ONLY, '--config', cfg, '--root', root], agentEnv(root));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /join +would change/);
    assert.match(r.stdout, /kubeadm join --config \/run\/joinagent\/kubeadm-join-dryrun\.yaml --dry-run:/);
    assert.match(r.stdout, /\[dryrun\] Would write file "\/etc\/kubernetes\/kubelet\.conf"/);
    assert.ok(!existsSync(path.join(root, 'etc/kubernetes/kubelet.conf')));
    assert.ok(!existsSync(path.join(root, 'run/joinagent/kubeadm-join-dryrun.yaml')), 'the dry-run config with the token is removed');
    assert.ok(!r.stdout.includes(SECRET));
  });
});
