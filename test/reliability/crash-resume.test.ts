import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { StatusDocument } from '../../src/status/model.js';
import { ensureBinary } from '../e2e/harness/agent.js';
import { assertHostPrepared, assertJoined, assertRuntimeReady } from '../e2e/harness/assertions.js';
import { cleanupAll } from '../e2e/harness/cleanup.js';
import { startWorld, type World } from '../e2e/harness/world.js';
import { atOrAfter, CONFIG, journal, killUnit, running, startAgentUnit, tryStatus, unitActive } from './lib/agent-in-node.js';
import { assertBackupsAndNoTempFiles, assertFilesWhole, plantForeignContent } from './lib/node-files.js';

// Crash and resume: SIGKILL the agent at 20 points of a full run on a booted node (during
// package installs, config writes, image pulls, the join), each time checking that every
// file is whole; then a new `run --once` converges to the same end state as an
// uninterrupted run. Two chains of ten kills on one node (reset --all in between), each
// kill landing later in the run than the last, so the whole test stays a few minutes.
const SLOT = 130;
let w: World | undefined;
const log = (m: string): void => console.log(`# ${m}`);

type Point = { name: string; whom: 'main' | 'all' } & ({ when: (s: StatusDocument | undefined) => boolean; extraMs?: number } | { afterMs: number });

const CHAIN_BY_STEP: Point[] = [
  { name: 'start-up, before /status', afterMs: 120, whom: 'main' },
  { name: 'host steps (sysctl/hosts writes)', when: (s) => ['sysctl', 'hosts', 'swap', 'modules'].some((id) => running(s, id)), whom: 'main' },
  { name: 'apt-get update', when: (s) => running(s, 'packages', /update/), whom: 'all' },
  { name: 'apt-get install (early)', when: (s) => running(s, 'packages', /install|unpack|setting up|selecting/i), whom: 'all' },
  { name: 'apt-get install (dpkg unpacking)', when: (s) => running(s, 'packages', /install|unpack|setting up/i), extraMs: 1200, whom: 'all' },
  { name: 'package hold / kubelet enable', when: (s) => running(s, 'packages', /hold|enable/i) || s?.steps.find((x) => x.id === 'packages')?.state === 'changed', whom: 'main' },
  { name: 'containerd config write', when: (s) => atOrAfter(s, 'crictl'), whom: 'main' },
  { name: 'containerd restart', when: (s) => atOrAfter(s, 'containerd-running'), whom: 'all' },
  { name: 'image pulls', when: (s) => atOrAfter(s, 'images'), whom: 'all' },
  { name: 'kubeadm join', when: (s) => atOrAfter(s, 'join'), extraMs: 300, whom: 'all' },
];
const CHAIN_BY_TIME: Point[] = [250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250, 2500].map((ms, i) => ({ name: `${ms} ms after start`, afterMs: ms, whom: i % 2 ? 'main' : 'all' }));

before(async () => {
  const binary = await ensureBinary(log);
  w = await startWorld({ slot: SLOT, log });
  await w.node.copyIn(binary, '/usr/local/bin/joinagent', 0o755);
  // A SIGKILL during `kubeadm join` leaves a half-finished join: joinagent's record of the
  // attempt it started lets the resumed run reset and join again, with the default config
  // (join.resetOnFailure stays false).
  await w.node.writeFile(CONFIG, w.config, 0o600);
  await plantForeignContent(w.node);
});
after(cleanupAll);

// Starts a run, waits for the point, SIGKILLs; returns whether the kill landed mid-run.
async function killAt(p: Point, unit: string): Promise<{ landed: boolean; step?: string }> {
  const { node } = w!;
  await startAgentUnit(node, unit);
  const t0 = Date.now();
  let last: StatusDocument | undefined;
  if ('afterMs' in p) {
    await new Promise((r) => setTimeout(r, Math.max(0, p.afterMs - (Date.now() - t0))));
  } else {
    for (;;) {
      last = await tryStatus(node);
      if (p.when(last)) break;
      if (!(await unitActive(node, unit))) {
        log(`  ${unit} ended before "${p.name}":\n${(await journal(node, unit)).split('\n').slice(-6).join('\n').replace(/^/gm, '#    ')}`);
        return { landed: false };
      }
      if (Date.now() - t0 > 5 * 60_000) throw new Error(`kill point "${p.name}" never came`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (p.extraMs) await new Promise((r) => setTimeout(r, p.extraMs));
  }
  const landed = await unitActive(node, unit);
  const step = last?.steps.find((x) => x.state === 'running')?.id;
  await killUnit(node, unit, p.whom);
  return { landed, step };
}

async function chain(name: string, points: Point[]): Promise<number> {
  const { node } = w!;
  let landed = 0;
  for (const [i, p] of points.entries()) {
    const r = await killAt(p, `ja-crash-${name}-${i}`);
    if (r.landed) landed++;
    log(`${name} #${i + 1} ${p.name} (kill ${p.whom}): ${r.landed ? `killed${r.step ? ` during ${r.step}` : ''}` : 'run ended before the point'}`);
    assertFilesWhole(node, `after kill "${p.name}"`);
  }
  const fin = await node.exec(['/usr/local/bin/joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(fin.exitCode, 0, `the resumed run exits 0:\n${(fin.stdout + fin.stderr).split('\n').slice(-30).join('\n')}`);
  // the kill during kubeadm join, when it left files behind: reset by joinagent's own record
  if (/previous kubeadm join was interrupted/.test(fin.stdout + fin.stderr)) log(`${name}: the resumed run reset an interrupted join (joinagent's record of its own attempt) and joined again`);
  assertFilesWhole(node, `after the resumed run of chain ${name}`);
  await assertHostPrepared(node);
  await assertRuntimeReady(node);
  await assertJoined(w!);
  assertBackupsAndNoTempFiles(node);
  return landed;
}

test('crash and resume: 20 SIGKILLs across full runs, each resumed to the same end state', { timeout: 20 * 60_000 }, async () => {
  const t = Date.now();
  const a = await chain('step', CHAIN_BY_STEP);
  const r = await w!.node.exec(['/usr/local/bin/joinagent', 'reset', '--all', '--purge-packages', '--yes', '--config', CONFIG], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(r.exitCode, 0, `reset --all exited ${r.exitCode}:\n${r.stdout}${r.stderr}`);
  await w!.node.writeFile('/etc/containerd/config.toml', (await import('./lib/node-files.js')).FOREIGN.containerd);
  await w!.node.exec(['sh', '-c', 'ctr -n k8s.io images rm $(ctr -n k8s.io images ls -q) >/dev/null 2>&1 || true'], { allowFailure: true });
  // reset leaves the Node object in the cluster (as kubeadm reset does): join again under
  // a new hostname instead of deleting it on the control plane
  await w!.node.sh('hostname worker-130b && echo worker-130b > /etc/hostname');
  const b = await chain('time', CHAIN_BY_TIME);
  log(`kills that landed mid-run: ${a + b} of 20 (${((Date.now() - t) / 1000).toFixed(0)}s)`);
  assert.ok(a + b >= 16, `at least 16 of the 20 kills land while the agent works (got ${a + b})`);
});
