import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

// Integration tests run the BUILT single binary, as an operator would.
export const BINARY = path.resolve(new URL('../../dist/joinagent', import.meta.url).pathname);

export function requireBinary(): string {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run 'bash build.sh' first`);
  return BINARY;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Runs the binary with a PATH of only `fakeBin` (plus what the caller adds), so a step
// that reaches for a real host tool finds a fake or nothing: tests never touch the host.
export function cli(args: string[], opts: { env?: Record<string, string>; fakeBin?: string; input?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(requireBinary(), args, {
    env: { PATH: opts.fakeBin ?? '/nonexistent', HOME: '/root', ...opts.env },
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function spawnAgent(args: string[], opts: { env?: Record<string, string>; fakeBin?: string } = {}): ChildProcess & { output: () => string } {
  const child = spawn(requireBinary(), args, { env: { PATH: opts.fakeBin ?? '/nonexistent', HOME: '/root', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return Object.assign(child, { output: () => out });
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

// A directory of tiny fake executables (execa's testing style): name -> sh body.
export function fakeBin(dir: string, tools: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(tools)) {
    const p = path.join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
  }
  return dir;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

// fresh: a new connection, as a monitor or curl makes (Node's global agent keeps sockets
// alive and reuses them, which would skip the server's accept path)
export function httpGet(port: number, p: string, opts: { host?: string; method?: string; headers?: Record<string, string>; connectTo?: string; fresh?: boolean } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: opts.connectTo ?? '127.0.0.1', port, path: p, method: opts.method ?? 'GET', headers: { host: opts.host ?? `127.0.0.1:${port}`, ...opts.headers }, timeout: 5000, ...(opts.fresh ? { agent: false } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
