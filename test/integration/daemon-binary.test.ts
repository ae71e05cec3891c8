import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parsePrometheusText, sampleValue } from '../helpers/prom-text.js';

// The BUILT binary as systemd and an operator use it. PATH holds only fakes, so whatever
// steps exist by now can change nothing on this machine: host files go under --root,
// and any command a step runs is "not found" (the run fails, the daemon retries).
const BIN = path.resolve('dist/joinagent');
const PORT = 19763;
let dir: string;

const config = (extra = ''): string => `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: v1.32.11
host: { ntp: false, selinux: leave, firewall: leave, swap: leave }
status: { address: 127.0.0.1:${PORT} }
reconcile: { interval: 1s${extra} }
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    token: abcdef.0123456789abcdef
    apiServerEndpoint: 198.18.0.1:6443
    caCertHashes: ["sha256:${'a'.repeat(64)}"]
`;

before(() => {
  assert.ok(existsSync(BIN), `${BIN} is missing: run bash build.sh first`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'joinagent-bin-'));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'sc'));
  symlinkSync(path.resolve('test/helpers/fake-systemctl.sh'), path.join(dir, 'bin/systemctl'));
  writeFileSync(path.join(dir, 'bin/systemd-notify'), `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> ${dir}/notify.log\n`);
  chmodSync(path.join(dir, 'bin/systemd-notify'), 0o755);
  writeFileSync(path.join(dir, 'config.yaml'), config(), { mode: 0o600 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const env = (): NodeJS.ProcessEnv => ({ PATH: `${dir}/bin`, FAKE_SYSTEMCTL_DIR: `${dir}/sc`, HOME: dir });

test('install --now twice: the second changes nothing and runs no daemon-reload; uninstall twice likewise', () => {
  const root = path.join(dir, 'root-install');
  mkdirSync(path.join(root, 'run/systemd/system'), { recursive: true });
  // install runs nothing but systemctl (the fake, first on PATH), which needs touch and rm
  const ja = (...args: string[]) => spawnSync(BIN, ['--root', root, '--config', path.join(dir, 'config.yaml'), ...args], { env: { ...env(), PATH: `${dir}/bin:/usr/bin:/bin` }, encoding: 'utf8' });
  const calls = (): string[] => (existsSync(`${dir}/sc/calls`) ? readFileSync(`${dir}/sc/calls`, 'utf8').trim().split('\n') : []);

  const first = ja('install', '--now');
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /installed \/usr\/local\/bin\/joinagent/);
  assert.match(first.stdout, /install: done \(6 changes\)/);
  assert.deepEqual(calls().filter((c) => !c.startsWith('is-')), ['daemon-reload', 'enable joinagent.service', 'start --no-block joinagent.service']);
  assert.ok(readFileSync(path.join(root, 'usr/local/bin/joinagent')).equals(readFileSync(BIN)), 'the running binary was copied');
  const unit = readFileSync(path.join(root, 'etc/systemd/system/joinagent.service'), 'utf8');
  assert.equal(unit, readFileSync('systemd/joinagent.service', 'utf8'), 'the embedded unit is systemd/joinagent.service');
  assert.equal(statSync(path.join(root, 'etc/joinagent/config.yaml')).mode & 0o777, 0o600);

  rmSync(`${dir}/sc/calls`);
  const second = ja('install', '--now');
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /^install: nothing to do/m);
  assert.deepEqual(calls(), ['is-enabled joinagent.service', 'is-active joinagent.service']);

  rmSync(`${dir}/sc/calls`);
  const un = ja('uninstall');
  assert.equal(un.status, 0, un.stderr);
  assert.deepEqual(calls().filter((c) => !c.startsWith('is-')), ['stop joinagent.service', 'disable joinagent.service', 'daemon-reload']);
  assert.equal(existsSync(path.join(root, 'usr/local/bin/joinagent')), false);
  rmSync(`${dir}/sc/calls`);
  const un2 = ja('uninstall');
  assert.match(un2.stdout, /uninstall: nothing to do/);
  assert.deepEqual(calls().filter((c) => !c.startsWith('is-')), []);
});

function getText(p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: PORT, path: p, headers: { host: 'localhost' }, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve(f()).catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startDaemon(root: string, extraEnv: NodeJS.ProcessEnv = {}): { child: ChildProcess; log: () => string; exit: Promise<number | null> } {
  const live = path.join(dir, 'live.yaml');
  writeFileSync(live, config(), { mode: 0o600 });
  const child = spawn(BIN, ['--root', root, '--config', live, '--log-format', 'json', 'run'], { env: { ...env(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, log: () => out, exit };
}

test('daemon: SIGHUP with a bad config keeps the old one and logs every problem; a good one reloads; SIGTERM exits 0', async () => {
  const root = path.join(dir, 'root-daemon');
  mkdirSync(root);
  const d = startDaemon(root, { NOTIFY_SOCKET: '/run/test-notify' });
  try {
    await until('status served', async () => (await getText('/status')).status === 200);
    const live = path.join(dir, 'live.yaml');

    writeFileSync(live, config().replace('reconcile: { interval: 1s }', 'reconcile: { interval: soon, mode: fix }'));
    d.child.kill('SIGHUP');
    const refused = await until('refusal logged', () => d.log().split('\n').find((l) => l.includes('config reload refused')));
    const msg = (JSON.parse(refused) as { msg: string }).msg;
    assert.match(msg, /2 problems/);
    assert.match(msg, /live\.yaml:6:\d+: reconcile\.interval: "soon" is not a duration/);
    assert.match(msg, /live\.yaml:6:\d+: reconcile\.mode: /);
    const kept = JSON.parse((await getText('/status')).body) as { agent: { configReloadedAt?: string } };
    assert.equal(kept.agent.configReloadedAt, undefined);
    assert.equal(d.child.exitCode, null, 'still running');

    writeFileSync(live, config(', mode: report'));
    d.child.kill('SIGHUP');
    await until('reload logged', () => d.log().includes('config reloaded from'));
    const doc = JSON.parse((await getText('/status')).body) as { agent: { configReloadedAt?: string } };
    assert.ok(doc.agent.configReloadedAt);

    const m = parsePrometheusText((await getText('/metrics')).body);
    assert.equal(sampleValue(m, 'joinagent_config_reloads_total', { result: 'refused' }), 1);
    assert.equal(sampleValue(m, 'joinagent_config_reloads_total', { result: 'ok' }), 1);
    // The reload wakes the daemon for a run at once; that run may still be going when the
    // reload is logged, so wait for it to be counted rather than reading the counter once.
    const runsNow = async (): Promise<number> => {
      const mm = parsePrometheusText((await getText('/metrics')).body);
      return (sampleValue(mm, 'joinagent_runs_total', { mode: 'run', result: 'failed' }) ?? 0) + (sampleValue(mm, 'joinagent_runs_total', { mode: 'run', result: 'ok' }) ?? 0);
    };
    await until('the run the reload started is counted', async () => ((await runsNow()) >= 2 ? true : undefined));

    d.child.kill('SIGTERM');
    assert.equal(await d.exit, 0);
    const notes = readFileSync(`${dir}/notify.log`, 'utf8');
    assert.match(notes, /^\/run\/test-notify --pid=\d+ --status=not joined: /m, 'progress goes to systemd');
    assert.match(notes, /STOPPING=1/);
    assert.doesNotMatch(notes, /--ready/, 'not joined: never READY');
    assert.doesNotMatch(d.log() + notes, /0123456789abcdef/, 'the token never shows');
  } finally {
    d.child.kill('SIGKILL');
  }
});

test('daemon: SIGINT also stops it with exit 0, and the lock is released', async () => {
  const root = path.join(dir, 'root-sigint');
  mkdirSync(root);
  const d = startDaemon(root);
  try {
    await until('status served', async () => (await getText('/status')).status === 200);
    d.child.kill('SIGINT');
    assert.equal(await d.exit, 0);
    // the lock is the kernel's (flock): released means another process can take it now
    const free = spawnSync('flock', ['--nonblock', '--exclusive', path.join(root, 'run/joinagent/lock'), 'true']);
    assert.equal(free.status, 0, 'the lock is free after the agent stopped');
  } finally {
    d.child.kill('SIGKILL');
  }
});

// join-cleanup removes join.tokenFile after the join: on a joined node (kubelet.conf under
// the root) the config then names a file that is gone. The daemon starts with it (run
// needs no token once joined), and a reload (systemctl reload after a config change) and
// `validate` judge it the same way; on a node that has not joined the file is required.
test('daemon: on a joined node, SIGHUP and validate accept a config whose join.tokenFile join-cleanup removed', async () => {
  const root = path.join(dir, 'root-joined');
  mkdirSync(path.join(root, 'etc/kubernetes'), { recursive: true });
  writeFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'apiVersion: v1\nkind: Config\n');
  const gone = path.join(dir, 'removed-token');
  const tokenFileConfig = (interval: string): string => config().replace('reconcile: { interval: 1s }', `reconcile: { interval: ${interval} }\njoin: { tokenFile: ${gone} }`).replace(/ {4}token: abcdef\.0123456789abcdef\n/, '');
  const live = path.join(dir, 'live.yaml');
  const validate = (r: string) => spawnSync(BIN, ['--root', r, '--config', live, 'validate'], { env: env(), encoding: 'utf8' });
  const d = startDaemon(root);
  try {
    await until('status served', async () => (await getText('/status')).status === 200);
    writeFileSync(live, tokenFileConfig('2s'), { mode: 0o600 });
    d.child.kill('SIGHUP');
    await until('reload logged', () => d.log().includes('config reloaded from') || d.log().includes('config reload refused'));
    assert.doesNotMatch(d.log(), /config reload refused/, 'the reload is not refused for the removed token file');
    assert.equal(validate(root).status, 0, `validate on the joined root:\n${validate(root).stdout}${validate(root).stderr}`);
    // not joined: the token is needed, and its absence is a config error naming the field
    const fresh = path.join(dir, 'root-fresh');
    mkdirSync(fresh, { recursive: true });
    const v = validate(fresh);
    assert.equal(v.status, 2);
    assert.match(v.stderr + v.stdout, /join\.tokenFile: cannot read .*removed-token/);
  } finally {
    d.child.kill('SIGKILL');
  }
});
