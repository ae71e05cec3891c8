import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';

// Small measurement helpers shared by the benchmark sections.
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function get(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host: 'localhost' }, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

// Time from spawn to the first 200 on `path`: what "start-up to a served /status" means.
export async function timeToServe(cmd: string, args: string[], port: number, path: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; child: ChildProcess }> {
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, { env, stdio: 'ignore' });
  for (let i = 0; i < 5000; i++) {
    if ((await get(port, path)) === 200) return { ms: Number(process.hrtime.bigint() - t0) / 1e6, child };
    await new Promise((r) => setTimeout(r, 1));
  }
  child.kill('SIGKILL');
  throw new Error(`${cmd} never served ${path} on ${port}`);
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

export interface WrkResult {
  requestsPerSec: number;
  p99Ms: number;
  errors: number;
}

// wrk with a Lua-free latency report; parses requests/s and the 99% latency line.
export function wrk(url: string, seconds: number, connections = 50, threads = 2): WrkResult {
  const r = spawnSync('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '-H', 'Host: localhost', url], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  return parseWrk(r.stdout);
}

export function parseWrk(stdout: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const unit = { us: 0.001, ms: 1, s: 1000 } as Record<string, number>;
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0) + Number(/Socket errors:.*?timeout (\d+)/.exec(stdout)?.[1] ?? 0);
  return { requestsPerSec: round(rps, 0), p99Ms: p99 ? round(Number(p99[1]) * unit[p99[2]], 3) : NaN, errors };
}
