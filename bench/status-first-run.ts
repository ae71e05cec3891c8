import { spawn } from 'node:child_process';
import { ensureBinary } from '../test/e2e/harness/agent.js';
import type { Node } from '../test/e2e/harness/node.js';
import { sh } from '../test/e2e/harness/sh.js';
import { startWorld } from '../test/e2e/harness/world.js';
import { parseWrk, round, type WrkResult } from './lib.js';

// /status under load during a real first run: a fresh booted node, `joinagent run --once`
// (apt transaction with its output streaming, containerd restarted for its config, the
// two images pulled over CRI, the join), and wrk against the agent's /status from the
// moment it serves until the run exits (wrk runs from the host inside the node's network
// namespace; SIGINT ends it with its report). Slot 123.
const CONFIG = '/root/joinagent.yaml';
const URL = 'http://127.0.0.1:9797/status';
const HELLO_URL = 'http://127.0.0.1:19830/';
const log = (m: string): void => void process.stderr.write(`bench:   ${m}\n`);

// `hello`: the baseline. The same first run on another fresh node, but wrk loads the
// hello-world SEA server started beside it (same window): what the floor's p99 is while
// apt, containerd and the pulls run on the same two cores.
// `env` is for profiling (NODE_OPTIONS=--cpu-prof --cpu-prof-dir=...); `keep` runs before the node goes.
export async function statusDuringFirstRun(connections: number, threads = 2, env?: Record<string, string>, keep?: (w: { node: Node }) => Promise<void>, hello?: string): Promise<Record<string, unknown>> {
  const binary = await ensureBinary(log);
  const w = await startWorld({ slot: 123, log });
  try {
    await w.node.copyIn(binary, '/usr/local/bin/joinagent', 0o755);
    await w.node.writeFile(CONFIG, w.config, 0o600);
    const target = hello ? HELLO_URL : URL;
    if (hello) {
      await w.node.copyIn(hello, '/usr/local/bin/hello-sea', 0o755);
      await w.node.exec(['systemd-run', '--unit=bench-hello', '--collect', '/usr/local/bin/hello-sea', '127.0.0.1:19830']);
    }
    const t0 = Date.now();
    const run = w.node.exec(['joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 15 * 60_000, env });
    let done = false;
    void run.finally(() => (done = true));
    while (!done && (await served(w.node)) !== 200) await new Promise((r) => setTimeout(r, 5));
    if (done) throw new Error(`the agent exited before /status served: ${(await run).stderr.split('\n').slice(-10).join('\n')}`);
    const servedAfterMs = Date.now() - t0;
    const wrk = spawn('nsenter', ['-t', String(w.node.pid1), '-n', '--', 'wrk', `-t${threads}`, `-c${connections}`, '-d600s', '--latency', '-H', 'Host: localhost', target], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    wrk.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const wrkExit = new Promise<void>((resolve) => wrk.once('exit', () => resolve()));
    // the agent's own event-loop delay (its /status histogram, since start): low while the
    // request p99 is high means the requests waited for a CPU, not for the agent
    let agentLag: unknown;
    while (!done) {
      agentLag = (await statusJson(w.node))?.agent?.eventLoopDelayMs ?? agentLag;
      await Promise.race([run, new Promise((r) => setTimeout(r, 1000))]);
    }
    const r = await run;
    const loadS = (Date.now() - t0 - servedAfterMs) / 1000;
    wrk.kill('SIGINT');
    await wrkExit;
    if (r.exitCode !== 0) throw new Error(`joinagent run --once exited ${r.exitCode} under load:\n${(r.stdout + r.stderr).split('\n').slice(-20).join('\n')}`);
    await keep?.(w);
    const load: WrkResult = parseWrk(out);
    const steps = stepWindows(r.stdout + r.stderr);
    log(`${hello ? 'hello-world' : '/status'} during the first run: ${load.requestsPerSec} req/s, p99 ${load.p99Ms} ms over ${loadS.toFixed(1)} s`);
    return {
      ...load,
      loadSeconds: round(loadS, 1),
      firstRunSeconds: round((Date.now() - t0) / 1000, 2),
      servedAfterMs,
      agentEventLoopDelayMs: agentLag,
      loadShape: `wrk -t${threads} -c${connections}, from the first served /status to the run's exit`,
      loaded: hello ? 'the hello-world SEA server beside the run' : 'the agent\'s /status',
      stepsUnderLoad: steps,
    };
  } finally {
    await w.close();
  }
}

// One curl from inside the node's network namespace: the HTTP status of /status.
async function served(node: Node): Promise<number> {
  const r = await sh('nsenter', ['-t', String(node.pid1), '-n', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '1', URL], { allowFailure: true });
  return Number(r.stdout.trim()) || 0;
}

async function statusJson(node: Node): Promise<{ agent?: { eventLoopDelayMs?: unknown } } | undefined> {
  const r = await sh('nsenter', ['-t', String(node.pid1), '-n', '--', 'curl', '-s', '--max-time', '1', URL], { allowFailure: true });
  try {
    return JSON.parse(r.stdout) as never;
  } catch {
    return undefined;
  }
}

// The steps of the run with their durations (ms): what the load window covered.
function stepWindows(out: string): Record<string, number> {
  const ends = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string; step?: string; durationMs?: number; state?: string }).filter((e) => e.event === 'step-end');
  return Object.fromEntries(ends.map((e) => [`${e.step} (${e.state})`, e.durationMs ?? 0]));
}
