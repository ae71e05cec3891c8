import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { StatusDocument } from '../../src/status/model.js';
import { ensureBinary } from '../e2e/harness/agent.js';
import { assertHostPrepared, assertJoined, assertRuntimeReady } from '../e2e/harness/assertions.js';
import { cleanupAll, onCleanup } from '../e2e/harness/cleanup.js';
import { renderConfig } from '../e2e/harness/config.js';
import { startControlPlane, type ControlPlane } from '../e2e/harness/controlplane.js';
import { waitFor } from '../e2e/harness/sh.js';
import { REPO_KEY_IN_NODE, startWorld, type World } from '../e2e/harness/world.js';
import { CONFIG, journal, tryStatus } from './lib/agent-in-node.js';
import { linkFor } from '../e2e/harness/paths.js';
import { startFaultProxy, type FaultProxy } from './lib/fault-proxy.js';
import { assertFilesWhole, plantForeignContent } from './lib/node-files.js';

// Faults, on one booted node, in the order a run meets them: disk full under
// /var/lib/joinagent, package repository down then answering 500s, the dpkg lock held
// longer than joinagent's patience, then briefly, the registry mirror down then slow, the
// control plane down. The agent runs as the daemon operators run: for each fault the step
// retries with back-off, then /status and `joinagent status` explain the failure (message
// and hint naming what to fix), every file is whole; once the fault is lifted, the next run
// gets past it; the last one converges to a joined node.
const SLOT = 140;
const HOST = linkFor(SLOT).host;
const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const UNIT = 'ja-faults-daemon';
const HOLDER = 'ja-faults-dpkg-holder';
let w: World | undefined;
let cp: ControlPlane | undefined;
let registryProxy: FaultProxy | undefined;
let apiProxy: FaultProxy | undefined;
const log = (m: string): void => console.log(`# ${m}`);

before(async () => {
  const binary = await ensureBinary(log);
  // the control plane on 6444 behind a proxy on 6443 (the config's endpoint), and the
  // registry behind a proxy on 5001 (the config's mirror): both can be taken down or slowed
  w = await startWorld({
    slot: SLOT,
    controlPlane: false,
    log,
    beforeBoot: async (_root, parts) => {
      const host = linkFor(SLOT).host;
      cp = await startControlPlane(host, parts.token, 'v1.32.11', 6444);
      apiProxy = await startFaultProxy(host, 6443, { host, port: 6444 });
      registryProxy = await startFaultProxy(host, 5001, { host, port: 5000 });
      onCleanup(`fault proxies of slot ${SLOT}`, async () => {
        await apiProxy?.close();
        await registryProxy?.close();
        await cp?.close();
      });
    },
  });
  const host = w.node.link.host;
  // host.packageLockWait: the operator's knob for how long apt waits for the dpkg lock
  const config = renderConfig({ host, repoUrl: w.repo.url, repoKeyPath: REPO_KEY_IN_NODE, registry: registryProxy!.address, caCertHash: cp!.caCertHash, token: w.token }).replace(/^host:\n/m, 'host:\n  packageLockWait: 5s\n');
  await w.node.copyIn(binary, '/usr/local/bin/joinagent', 0o755);
  await w.node.writeFile(CONFIG, config, 0o600);
  await plantForeignContent(w.node);
});
after(cleanupAll);

// Stopped before a fault is lifted, so the daemon's own scheduled retry cannot run ahead
// of the next case's set-up.
async function stopDaemon(): Promise<void> {
  await w!.node.exec(['systemctl', 'stop', UNIT], { allowFailure: true });
  await w!.node.exec(['systemctl', 'reset-failed', UNIT], { allowFailure: true });
}

async function startDaemon(): Promise<void> {
  const { node } = w!;
  await stopDaemon();
  await node.exec(['systemd-run', `--unit=${UNIT}`, '--quiet', '/usr/local/bin/joinagent', 'run', '--config', CONFIG, '--log-format', 'json']);
}

async function statusUntil(what: string, pred: (s: StatusDocument) => boolean, timeoutMs = 120_000): Promise<StatusDocument> {
  let last: StatusDocument | undefined;
  return waitFor(`/status: ${what}`, async () => {
    const s = await tryStatus(w!.node);
    if (s) last = s;
    if (s && pred(s)) return s;
    if (!(await w!.node.exec(['systemctl', 'is-active', UNIT], { allowFailure: true })).stdout.includes('active')) {
      throw Object.assign(new Error(`${UNIT} ended while waiting for ${what}:\n${(await journal(w!.node, UNIT)).split('\n').slice(-15).join('\n')}`), { fatal: true });
    }
    return undefined;
  }, timeoutMs, 300).catch((e: Error) => {
    throw new Error(`${e.message}; last /status: ${last?.phase} ${JSON.stringify(last?.steps.filter((x) => x.state !== 'pending').map((x) => [x.id, x.state, x.attempts, x.message, x.progress]))}`);
  });
}

const step = (s: StatusDocument | undefined, id: string) => s?.steps.find((x) => x.id === id);
const failedOn = (id: string) => (s: StatusDocument): boolean => s.phase === 'failed' && step(s, id)?.state === 'failed' && s.next?.action === 'retry';

// What an operator sees for a failed run: /status names the step, its attempts, the
// message and a hint; `joinagent status` prints the same and exits 1; every file whole.
async function assertExplained(s: StatusDocument, id: string, message: RegExp, hint: RegExp, attempts: number): Promise<void> {
  const st = step(s, id)!;
  assert.equal(st.attempts, attempts, `${id}: ${attempts} attempts with back-off before giving up (/status)`);
  assert.match(st.message ?? '', message, `${id}: /status message`);
  assert.match(st.hint ?? '', hint, `${id}: /status hint`);
  assert.equal(s.lastError?.step, id, '/status lastError names the step');
  const cli = await w!.node.exec(['/usr/local/bin/joinagent', 'status', '--config', CONFIG], { allowFailure: true });
  assert.equal(cli.exitCode, 1, `joinagent status exits 1 (failed):\n${cli.stdout}${cli.stderr}`);
  assert.match(cli.stdout, new RegExp(`error\\s+${id}: .*${message.source}`), 'joinagent status: the error line');
  assert.match(cli.stdout, new RegExp(`hint\\s+.*${hint.source}`), 'joinagent status: the hint line');
  assert.match(cli.stdout, /next\s+retry \(attempt \d+\)/, 'joinagent status: the daemon retries');
  assertWhole(`after the ${id} failure`);
}

// Every file joinagent writes parses (state.json, the manifest, /etc files), and no temp
// file of an atomic write that failed half-way is left anywhere it writes.
function assertWhole(when: string): void {
  const { node } = w!;
  assertFilesWhole(node, when);
  const temps: string[] = [];
  for (const dir of ['/etc', '/var/lib/joinagent']) {
    for (const f of readdirSync(node.hostPath(dir), { recursive: true, encoding: 'utf8' })) if (/\.joinagent-\d+-\d+$/.test(f)) temps.push(path.join(dir, f));
  }
  assert.deepEqual(temps, [], `${when}: no temporary file of a failed write left`);
}

async function stateJson(): Promise<{ steps: Record<string, { attempts: number; state: string; message?: string }> }> {
  return JSON.parse((await w!.node.exec(['cat', '/var/lib/joinagent/state.json'])).stdout) as never;
}

test('faults: retried with back-off, explained by /status, nothing half-written, converged once lifted', { timeout: 10 * 60_000 }, async () => {
  const { node, repo } = w!;
  const t0 = Date.now();
  const lap = (m: string): void => log(`${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s ${m}`);

  // 1. disk full: a 16 MiB tmpfs on /var/lib/joinagent, filled; the repository and the
  // registry mirror are down too (later faults, met once the run gets that far)
  await node.sh('mkdir -p /var/lib/joinagent && mount -t tmpfs -o size=16m,mode=0700 ja-faults /var/lib/joinagent && (dd if=/dev/zero of=/var/lib/joinagent/filler bs=1M 2>/dev/null || true)');
  await repo.setFault!('down');
  await registryProxy!.setMode('down');
  await startDaemon();
  let s = await statusUntil('a run failed on the full disk, and failed again on the retry', (x) => x.phase === 'failed' && (x.next?.attempt ?? 0) >= 2);
  const diskStep = s.lastError!.step!;
  await assertExplained(s, diskStep, /no space left on device: writing \/var\/lib\/joinagent\//, /filesystem holding \/var\/lib\/joinagent\/\S+ is full \(df -h \/var\/lib\/joinagent/, 1);
  assert.ok(s.warnings.some((x) => /cannot save \/var\/lib\/joinagent\/state\.json: .*no space left/.test(x.message)), `/status warns that state cannot be saved: ${JSON.stringify(s.warnings)}`);
  lap(`disk full: ${diskStep} failed (${s.lastError!.message}); the daemon retried the run`);
  await node.exec(['rm', '/var/lib/joinagent/filler']);

  // 2. the daemon's own next retry gets past the disk; the repository is down, then answers 500
  s = await statusUntil('packages retrying on the unreachable repository', (x) => (step(x, 'packages')?.attempts ?? 0) >= 2 && /apt-get update/.test(step(x, 'packages')?.message ?? ''));
  assert.ok(['ok', 'changed'].includes(step(s, diskStep)!.state), `${diskStep} converged once the disk had room: ${step(s, diskStep)!.state}`);
  assert.match(step(s, 'packages')!.message ?? '', new RegExp(`${re(HOST)} 8080|${re(HOST)}:8080`), 'the retry message names the repository');
  lap(`repository down: packages retrying (${step(s, 'packages')!.message?.slice(0, 120)})`);
  await repo.setFault!('error500');
  s = await statusUntil('packages failed on the repository', failedOn('packages'), 150_000);
  await assertExplained(s, 'packages', /apt-get update.*500/, /repository was not reachable: check the network, proxy and repositories\.\* in the config/, 4);
  assert.equal((await stateJson()).steps.packages!.attempts, 4, 'state.json records the 4 attempts');
  lap('repository 500s: packages failed after 4 attempts');
  await stopDaemon();

  // 3. the dpkg lock held longer than host.packageLockWait (5s) by another process
  await repo.setFault!('none');
  // apt locks with fcntl (a flock(1) holder would not block it), as unattended-upgrades does
  await node.writeFile('/root/hold-dpkg-lock.pl', 'use Fcntl;\n$0 = "unattended-upgr";\nopen(my $f, ">>", "/var/lib/dpkg/lock-frontend") or die;\nmy $l = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0);\nfcntl($f, F_SETLKW, $l) or die "lock: $!";\nsleep 600;\n');
  await node.exec(['systemd-run', `--unit=${HOLDER}`, '--quiet', 'perl', '/root/hold-dpkg-lock.pl']);
  const holderPid = (await node.exec(['systemctl', 'show', '-p', 'MainPID', '--value', HOLDER])).stdout.trim();
  assert.ok(Number(holderPid) > 0, `the lock holder runs (pid ${holderPid})`);
  await waitFor('the holder to take the dpkg lock', async () => (new RegExp(`POSIX\\s+ADVISORY\\s+WRITE\\s+${holderPid}\\s`).test((await node.exec(['cat', '/proc/locks'])).stdout) ? true : undefined), 10_000, 100);
  await startDaemon();
  s = await statusUntil('packages failed on the held dpkg lock', failedOn('packages'), 150_000);
  await assertExplained(s, 'packages', /apt-get install: .*(Could not get lock|Unable to acquire the dpkg frontend lock) \(?\/var\/lib\/dpkg\/lock-frontend/, new RegExp(`\\(pid ${holderPid}\\) holds /var/lib/dpkg/lock-frontend: let it finish`), 4);
  lap(`dpkg lock held: packages failed after 4 attempts naming the holder (${step(s, 'packages')!.hint?.split(':')[0]})`);
  await stopDaemon();

  // ...and held for a moment only: apt waits for it, then installs
  await startDaemon();
  await statusUntil('apt-get install waiting for the lock', (x) => /apt-get install/.test(step(x, 'packages')?.progress ?? ''));
  await new Promise((r) => setTimeout(r, 2000));
  await node.exec(['systemctl', 'stop', HOLDER]);
  // 4. the registry mirror is down (since the start): the packages converge, images fail
  s = await statusUntil('images failed on the registry', failedOn('images'), 150_000);
  assert.equal(step(s, 'packages')!.state, 'changed', 'packages installed once the lock was released');
  // apt-get install was running while the holder still had the lock, and it succeeded in
  // that same attempt: it waited (DPkg::Lock::Timeout) instead of failing
  assert.equal(step(s, 'packages')!.attempts, 1, 'within the first attempt: apt waited for the lock');
  await assertExplained(s, 'images', new RegExp(`registry mirror http://${re(HOST)}:5001 for registry\\.k8s\\.io is unreachable`), /start the mirror or fix containerd\.registryMirrors/, 4);
  lap('dpkg lock released after 2s: packages installed; registry down: images failed after 4 attempts');
  await stopDaemon();

  // 5. the registry slow (every chunk back delayed): pulls take longer and succeed;
  // the control plane is down: discovery fails
  await apiProxy!.setMode('down');
  await registryProxy!.setMode({ slowMs: 150 });
  await startDaemon();
  const pulling = await statusUntil('a slow pull in progress', (x) => /pulling registry\.k8s\.io\//.test(step(x, 'images')?.progress ?? ''));
  assert.equal(step(pulling, 'images')!.state, 'running');
  s = await statusUntil('discovery failed on the control plane', failedOn('discovery'), 150_000);
  assert.equal(step(s, 'images')!.state, 'changed', 'images pulled through the slow registry');
  lap(`registry slow: images pulled in ${((step(s, 'images')!.durationMs ?? 0) / 1000).toFixed(1)}s`);
  await assertExplained(s, 'discovery', new RegExp(`connection to ${re(HOST)}:6443 refused`), /ss -tlnp \| grep 6443/, 3);
  lap(`control plane down: discovery failed after 3 attempts (${step(s, 'discovery')!.message}; hint: ${step(s, 'discovery')!.hint})`);

  // 6. everything back: the next run joins, and a run after that changes nothing
  await stopDaemon();
  await apiProxy!.setMode('pass');
  await registryProxy!.setMode('pass');
  await startDaemon();
  await statusUntil('ready', (x) => x.ready, 180_000);
  await node.exec(['systemctl', 'stop', UNIT]);
  const fin = await node.exec(['/usr/local/bin/joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(fin.exitCode, 0, `a run after the faults exits 0:\n${(fin.stdout + fin.stderr).split('\n').slice(-20).join('\n')}`);
  const st = await stateJson();
  assert.deepEqual(Object.entries(st.steps).filter(([, v]) => !['ok', 'skipped'].includes(v.state)).map(([k, v]) => `${k}: ${v.state}`), [], 'the run after convergence is all ok');
  assertWhole('after convergence');
  await assertHostPrepared(node);
  await assertRuntimeReady(node);
  await assertJoined({ ...w!, cp });
  lap('all faults lifted: joined, and a further run changes nothing');
});
