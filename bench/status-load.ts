import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchConfig } from './footprint.js';
import { stop, timeToServe, wrk } from './lib.js';

// Section 4: /status throughput and p99 with wrk on loopback, idle and while a long step
// runs (every host tool is a fake that sleeps, so the first step blocks for a while).
// Event-loop delay comes from /status itself.
//
// Load: wrk -t2 -c50. Each figure is the steady state: the same load runs 2 s first and
// is reported apart (0.5 s after start the agent is still loading modules, starting its
// converge and compiling the request path). The hello-world SEA server under the same
// load is the floor.
const CONNECTIONS = 50;

// The measured window, with the first 2 s (reported as firstSeconds, not hidden).
function steadyWrk(url: string, seconds: number): ReturnType<typeof wrk> & { firstSeconds: ReturnType<typeof wrk> } {
  const firstSeconds = wrk(url, 2, CONNECTIONS);
  return { ...wrk(url, seconds, CONNECTIONS), firstSeconds };
}

const TOOLS = ['timedatectl', 'systemctl', 'sysctl', 'getenforce', 'setenforce', 'firewall-cmd', 'ufw', 'swapon', 'swapoff', 'modprobe', 'apt-get', 'apt-cache', 'dpkg-query', 'dnf', 'rpm', 'containerd', 'ctr', 'kubeadm', 'ip', 'journalctl', 'apt-mark'];

export async function statusLoad(binary: string, work: string, seconds: number): Promise<Record<string, unknown>> {
  const cfg = path.join(work, 'load.yaml');
  writeFileSync(cfg, benchConfig(19823), { mode: 0o600 });
  const idle = await timeToServe(binary, ['run', '--config', cfg, '--root', path.join(work, 'load-idle'), '--log-format', 'json'], 19823, '/status', { PATH: '/nonexistent', HOME: '/root' });
  await new Promise((r) => setTimeout(r, 1500));
  const idleR = steadyWrk('http://127.0.0.1:19823/status', seconds);
  const idleLag = await lag(19823);
  await stop(idle.child);

  const bin = path.join(work, 'sleepy-bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'sleeper'), `#!/bin/sh\n/bin/sleep ${seconds * 3 + 10}\nexit 1\n`);
  chmodSync(path.join(bin, 'sleeper'), 0o755);
  for (const t of TOOLS) symlinkSync('sleeper', path.join(bin, t));
  const busy = await timeToServe(binary, ['run', '--config', cfg, '--root', path.join(work, 'load-busy'), '--log-format', 'json'], 19823, '/status', { PATH: bin, HOME: '/root' });
  await new Promise((r) => setTimeout(r, 500));
  const running = await stepRunning(19823);
  const busyR = steadyWrk('http://127.0.0.1:19823/status', seconds);
  const busyLag = await lag(19823);
  await stop(busy.child);

  const hello = spawnSync('bash', [path.join(import.meta.dirname, 'build-hello.sh')], { encoding: 'utf8' }).stdout.trim();
  const hw = await timeToServe(hello, ['127.0.0.1:19824'], 19824, '/', { PATH: '/nonexistent', HOME: '/root' });
  const helloR = steadyWrk('http://127.0.0.1:19824/', seconds);
  await stop(hw.child);
  return {
    idle: { ...idleR, eventLoopDelayMs: idleLag },
    working: { ...busyR, eventLoopDelayMs: busyLag, stepRunningDuringLoad: running },
    helloWorld: helloR,
    seconds,
    connections: CONNECTIONS,
    loadShape: `wrk -t2 -c${CONNECTIONS}, steady state`,
  };
}

async function statusDoc(port: number): Promise<{ agent: { eventLoopDelayMs?: unknown }; steps: { id: string; state: string }[] }> {
  const res = await fetch(`http://127.0.0.1:${port}/status`);
  return (await res.json()) as never;
}

async function lag(port: number): Promise<unknown> {
  return (await statusDoc(port)).agent.eventLoopDelayMs;
}

async function stepRunning(port: number): Promise<string | null> {
  return (await statusDoc(port)).steps.find((s) => s.state === 'running')?.id ?? null;
}
