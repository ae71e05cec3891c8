import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ensureBinary } from '../test/e2e/harness/agent.js';
import { cleanupAll } from '../test/e2e/harness/cleanup.js';
import type { Node } from '../test/e2e/harness/node.js';
import { KUBE_DEB_VERSION } from '../test/e2e/harness/aptrepo.js';
import { REPO_KEY_IN_NODE, startWorld, type World } from '../test/e2e/harness/world.js';
import { median, round } from './lib.js';
import { ownPlaybook, profileLines, referenceController, referenceLocal, referenceTasks, type AnsibleRun } from './ansible.js';

// Sections 1 and 2: joinagent against what an operator would use instead, on booted
// Debian 12 nodes with the e2e harness's local apt repository and registry (slots 120-129).
const HERE = import.meta.dirname;
const CONFIG = '/root/joinagent.yaml';
const log = (m: string): void => void process.stderr.write(`bench:   ${m}\n`);

// Wall time of one command inside the node, in seconds.
async function timed(node: Node, cmd: string[]): Promise<{ s: number; stdout: string; stderr: string; exitCode: number }> {
  const t0 = process.hrtime.bigint();
  const r = await node.exec(cmd, { allowFailure: true, timeoutMs: 15 * 60_000 });
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, ...r };
}

function must(what: string, r: { exitCode: number; stdout: string; stderr: string }): void {
  if (r.exitCode !== 0) throw new Error(`${what} exited ${r.exitCode}:\n${(r.stdout + r.stderr).split('\n').slice(-25).join('\n')}`);
}

async function installAgent(w: World, binary: string): Promise<void> {
  await w.node.copyIn(binary, '/usr/local/bin/joinagent', 0o755);
  await w.node.writeFile(CONFIG, w.config, 0o600);
}

async function installRunbook(w: World): Promise<string[]> {
  await w.node.copyIn(path.join(HERE, 'runbook.sh'), '/root/runbook.sh', 0o755);
  return ['/root/runbook.sh', w.repo.url, REPO_KEY_IN_NODE, w.registry.address, w.node.link.host];
}

const hostsLines = async (node: Node): Promise<number> => Number((await node.exec(['grep', '-c', 'k8s-ctr', '/etc/hosts'], { allowFailure: true })).stdout.trim());

// Changed steps in a `run --once --log-format json` (step-end events with state changed).
function changedSteps(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string; step?: string; state?: string }).filter((e) => e.event === 'step-end' && e.state === 'changed').map((e) => e.step!);
}

// Ansible's no-op runs on the joined node: the reference playbook inside the node (the
// baseline), the same through a controller, and the bench's own full-scope playbook.
// Each is converged by one run first; profile_tasks output goes next to results.json.
async function ansibleRows(w: World, runs: number): Promise<{ figures: (j: number) => Record<string, number>; samples: Record<string, number[]>; changed: number }> {
  const few = Math.min(runs, 3);
  const series = async (name: string, run: () => Promise<AnsibleRun>, n: number): Promise<AnsibleRun[]> => {
    log(`ansible (${name}): first run`);
    await run();
    const out: AnsibleRun[] = [];
    for (let i = 0; i < n; i++) out.push(await run());
    log(`ansible (${name}) no-op median ${median(out.map((r) => r.s)).toFixed(2)}s, changed=${out[0].changed}`);
    return out;
  };
  const local = await series('reference, --connection=local in the node', await referenceLocal(w.node), runs);
  const ctl = await series('reference, controller on the host', await referenceController(w.node), few);
  const own = await series('bench playbook, controller on the host', await ownPlaybook(w), few);
  const m = (rs: AnsibleRun[]): number => median(rs.map((r) => r.s));
  const profile = [
    `# profile_tasks of the reference playbook's no-op runs (${new Date().toISOString()}), written by npm run bench`,
    `## inside the node, --connection=local (median ${m(local).toFixed(2)} s)`,
    profileLines(local[0].out),
    `## from a controller on the host, nsenter connection (median ${m(ctl).toFixed(2)} s)`,
    profileLines(ctl[0].out),
  ].join('\n');
  await fs.writeFile(path.join(HERE, 'ansible-profile-tasks.txt'), profile);
  return {
    changed: local[0].changed,
    samples: { ansibleLocal: local.map((r) => round(r.s, 3)), ansibleController: ctl.map((r) => round(r.s, 3)), ansibleOwn: own.map((r) => round(r.s, 3)) },
    figures: (j) => ({
      ansibleTasks: referenceTasks(),
      ansibleMedianS: round(m(local)),
      ansibleRatio: round(m(local) / j, 1),
      ansibleControllerMedianS: round(m(ctl)),
      ansibleControllerRatio: round(m(ctl) / j, 1),
      ansibleOwnMedianS: round(m(own)),
      ansibleOwnRatio: round(m(own) / j, 1),
      ansibleOwnChanged: own[0].changed,
      ansibleControllerChanged: ctl[0].changed,
    }),
  };
}

// 1. No-op re-run on one prepared (and joined) node: each tool is measured after its own
// first run, joinagent first so the others' rewrites do not count against it.
export async function noopRerun(runs: number, idleSeconds: number): Promise<Record<string, unknown>> {
  const binary = await ensureBinary(log);
  const w = await startWorld({ slot: 120, variant: 'ansible', log });
  try {
    await installAgent(w, binary);
    log('joinagent: first run (prepare and join)');
    must('joinagent run --once', await timed(w.node, ['joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json']));
    // BENCH_NOOP_ONLY_IDLE=1: only the idle footprint on the joined node (a quick loop for
    // footprint work: no no-op timings, no Ansible, no runbook)
    if (process.env.BENCH_NOOP_ONLY_IDLE === '1') return { idle: await idleFootprint(w, idleSeconds) };
    const ja: number[] = [];
    let jaChanged: string[] = [];
    let noopStepMs: Record<string, number> = {};
    for (let i = 0; i < runs; i++) {
      const r = await timed(w.node, ['joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json']);
      must('joinagent run --once (no-op)', r);
      if (i === 0) jaChanged = changedSteps(r.stdout + r.stderr);
      ja.push(r.s);
      noopStepMs = stepDurations(r.stdout + r.stderr);
    }
    log(`joinagent no-op median ${median(ja).toFixed(2)}s`);
    const idle = await idleFootprint(w, idleSeconds);

    const ansible = await ansibleRows(w, runs);

    const rb = await installRunbook(w);
    log('runbook: first run');
    must('runbook.sh', await timed(w.node, rb));
    const before = await hostsLines(w.node);
    const rbT: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await timed(w.node, rb);
      must('runbook.sh (re-run)', r);
      rbT.push(r.s);
    }
    const dupes = await hostsLines(w.node) - before;
    const j = median(ja);
    return {
      runs,
      joinagentMedianS: round(j, 3),
      ...ansible.figures(j),
      runbookMedianS: round(median(rbT)),
      runbookRatio: round(median(rbT) / j, 1),
      secondRunChanges: {
        joinagent: `${jaChanged.length} changed steps${jaChanged.length ? ` (${jaChanged.join(', ')})` : ''}`,
        ansible: `changed=${ansible.changed}`,
        runbook: `${dupes / runs} duplicate /etc/hosts line per run (${dupes} after ${runs} re-runs); config.toml rewritten and containerd restarted every run`,
      },
      samplesS: { joinagent: ja.map((x) => round(x, 3)), ...ansible.samples, runbook: rbT.map((x) => round(x, 3)) },
      // where the last no-op run's time went, per step (the rest is start-up and exit)
      joinagentStepMs: noopStepMs,
      idle,
    };
  } finally {
    await w.close();
  }
}

// Idle footprint, honestly: the daemon (`joinagent run`, no --once) on the joined node,
// started as a systemd unit and sampled from /proc once /status says ready, against the
// hello-world SEA server started the same way in the same node and window.
export async function idleFootprint(w: World, seconds: number): Promise<Record<string, unknown>> {
  const hello = spawnSync('bash', [path.join(HERE, 'build-hello.sh')], { encoding: 'utf8' }).stdout.trim();
  await w.node.copyIn(hello, '/usr/local/bin/hello-sea', 0o755);
  must('start agent', await w.node.exec(['systemd-run', '--unit=bench-ja', '--collect', '/usr/local/bin/joinagent', 'run', '--config', CONFIG, '--log-format', 'json']));
  must('start hello', await w.node.exec(['systemd-run', '--unit=bench-hello', '--collect', '/usr/local/bin/hello-sea', '127.0.0.1:19830']));
  try {
    const t0 = Date.now();
    while ((await w.node.exec(['joinagent', 'status', '--config', CONFIG], { allowFailure: true })).exitCode !== 0) {
      if (Date.now() - t0 > 120_000) throw new Error('the idle daemon never became ready');
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 5000)); // lazy loads (metrics after 3 s, facts after 1 s) are part of idle
    const pid = async (unit: string): Promise<number> => Number((await w.node.exec(['systemctl', 'show', '-p', 'MainPID', '--value', unit])).stdout.trim());
    const [ja, hw] = [await pid('bench-ja'), await pid('bench-hello')];
    const a0 = await usage(w.node, ja);
    const h0 = await usage(w.node, hw);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const a1 = await usage(w.node, ja);
    const h1 = await usage(w.node, hw);
    const tick = 100; // USER_HZ
    return {
      rssMiB: round(a1.rssKiB / 1024, 1),
      helloWorldRssMiB: round(h1.rssKiB / 1024, 1),
      rssRatio: round(a1.rssKiB / h1.rssKiB),
      cpuPercent: round((100 * (a1.cpuTicks - a0.cpuTicks)) / tick / seconds, 3),
      helloWorldCpuPercent: round((100 * (h1.cpuTicks - h0.cpuTicks)) / tick / seconds, 3),
      windowSeconds: seconds,
      what: 'joined, converged daemon (joinagent run) on the noop node',
    };
  } finally {
    await w.node.exec(['systemctl', 'stop', 'bench-ja', 'bench-hello'], { allowFailure: true });
  }
}

// RSS (KiB) and CPU ticks of a process in the node, from its /proc.
async function usage(node: Node, pid: number): Promise<{ rssKiB: number; cpuTicks: number }> {
  const r = await node.exec(['cat', `/proc/${pid}/status`, `/proc/${pid}/stat`]);
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  const stat = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).split(' ');
  return { rssKiB, cpuTicks: Number(stat[11]) + Number(stat[12]) };
}

// The package transaction alone, as both tools must run it: the repository set up, then
// apt-get update and one install of the same six packages (no recommends), timed
// together. Its share of the runbook's time is the floor for any ratio: xz-decompressing
// and unpacking containerd (~100 MB) is most of it.
const FLOOR = `mkdir -p /etc/apt/keyrings && gpg --batch --yes --dearmor -o /etc/apt/keyrings/k.gpg ${REPO_KEY_IN_NODE} && echo "deb [signed-by=/etc/apt/keyrings/k.gpg] @REPO@ /" > /etc/apt/sources.list.d/k.list`;
const FLOOR_TIMED = `apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends kubelet=${KUBE_DEB_VERSION} kubeadm=${KUBE_DEB_VERSION} kubectl=${KUBE_DEB_VERSION} cri-tools containerd runc >/dev/null`;

// 2. First run on a fresh node each time: `joinagent prepare` against the runbook script,
// alternating, same repository and registry (each world serves its own copy), and the
// package transaction alone (the floor) on a third fresh node.
export async function firstRun(runs: number): Promise<Record<string, unknown>> {
  const binary = await ensureBinary(log);
  const ja: number[] = [];
  const rb: number[] = [];
  const floor: number[] = [];
  let profile: Record<string, number> = {};
  for (let i = 0; i < runs; i++) {
    for (const tool of ['joinagent', 'runbook', 'floor'] as const) {
      const w = await startWorld({ slot: 121, controlPlane: false, log: () => {} });
      try {
        if (tool === 'joinagent') {
          await installAgent(w, binary);
          const r = await timed(w.node, ['joinagent', 'prepare', '--config', CONFIG, '--log-format', 'json']);
          must('joinagent prepare', r);
          ja.push(r.s);
          profile = stepDurations(r.stdout + r.stderr);
        } else if (tool === 'runbook') {
          const r = await timed(w.node, await installRunbook(w));
          must('runbook.sh', r);
          rb.push(r.s);
        } else {
          must('floor: repository', await w.node.sh(FLOOR.replace('@REPO@', w.repo.url)));
          const r = await timed(w.node, ['sh', '-c', FLOOR_TIMED]);
          must('floor: apt-get', r);
          floor.push(r.s);
        }
        log(`${tool} first run ${i + 1}/${runs}: ${{ joinagent: ja, runbook: rb, floor }[tool].at(-1)!.toFixed(2)}s`);
      } finally {
        await w.close();
      }
    }
  }
  return {
    runs,
    joinagentMedianS: round(median(ja)),
    runbookMedianS: round(median(rb)),
    ratio: round(median(ja) / median(rb)),
    aptFloorMedianS: round(median(floor)),
    aptFloorRatio: round(median(floor) / median(rb)),
    joinagentStepMs: profile,
    samplesS: { joinagent: ja.map((x) => round(x, 3)), runbook: rb.map((x) => round(x, 3)), aptFloor: floor.map((x) => round(x, 3)) },
  };
}

// Per-step wall time of the last joinagent run (step-end durationMs), for the profile.
function stepDurations(out: string): Record<string, number> {
  const ends = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string; step?: string; durationMs?: number }).filter((e) => e.event === 'step-end');
  return Object.fromEntries(ends.map((e) => [e.step!, e.durationMs ?? 0]));
}

export async function withCleanup<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await cleanupAll();
  }
}
