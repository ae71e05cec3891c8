import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { ResultPromise } from 'execa';
import { redact } from './redact.js';

// The only module that runs processes. Two verbs: probe() for read-only queries, run()
// for commands that may change the host. In plan/check mode run() throws, which is how
// `plan` proves it changes nothing, and tests can assert a converged re-run issued no run().
export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Non-zero exit is returned instead of thrown. */
  allowFailure?: boolean;
  /** Called per output line (stdout and stderr), already redacted. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** The executable was not found. */
  notFound: boolean;
}

export interface Proc {
  readonly readOnly: boolean;
  probe(file: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  run(file: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  which(name: string): Promise<string | null>;
}

export class ProcError extends Error {
  constructor(
    readonly result: RunResult,
    message?: string,
  ) {
    super(message ?? describeFailure(result));
    this.name = 'ProcError';
  }
}

export function describeFailure(r: RunResult): string {
  if (r.notFound) return `${r.command}: command not found`;
  if (r.timedOut) return `${r.command}: timed out after ${Math.round(r.durationMs / 1000)}s`;
  const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
  return `${r.command} exited ${r.exitCode}${tail ? `: ${tail}` : ''}`;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

// A command as a shell would need it typed: 'it'\''s' quoting, only where a shell would
// otherwise split or interpret the word (plan output, reset's list of commands).
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

// execa (and the ~40 modules behind it) loads at the first command, not at start-up:
// the agent serves /status before it runs anything.
let execaModule: Promise<typeof import('execa')> | undefined;
const loadExeca = (): Promise<typeof import('execa')> => (execaModule ??= import('execa'));

// Real processes through execa: no shell, captured output, a timeout, a C locale so
// messages we parse are stable, and every byte of output redacted before anyone sees it.
// onExec sees every finished command (already redacted): `--log-level debug` lists each
// one with its duration, which is how a slow step is explained without strace.
export function hostProc(readOnly = false, onExec?: (r: RunResult) => void): Proc {
  const exec = async (file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> => {
    const command = redact([file, ...args].join(' '));
    const { execa } = await loadExeca();
    const started = Date.now();
    const child: ResultPromise = execa(file, args, {
      input: opts.input,
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      env: { LC_ALL: 'C', ...opts.env },
      cwd: opts.cwd,
      reject: false,
      stripFinalNewline: false,
      forceKillAfterDelay: 5000,
      ...(opts.onLine ? { lines: false } : {}),
    });
    if (opts.onLine) {
      const cb = opts.onLine;
      pipeLines(child.stdout, (l) => cb(redact(l), 'stdout'));
      pipeLines(child.stderr, (l) => cb(redact(l), 'stderr'));
    }
    const r = await child;
    const notFound = (r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String((r as { originalMessage?: string }).originalMessage ?? ''));
    const result: RunResult = {
      command,
      exitCode: typeof r.exitCode === 'number' ? r.exitCode : notFound ? 127 : -1,
      stdout: redact(String(r.stdout ?? '')),
      stderr: redact(String(r.stderr ?? '')),
      durationMs: Date.now() - started,
      timedOut: Boolean(r.timedOut),
      notFound,
    };
    onExec?.(result);
    if (result.exitCode !== 0 && !opts.allowFailure) throw new ProcError(result);
    return result;
  };
  const which = async (name: string, pathVar = process.env.PATH): Promise<string | null> => {
    for (const dir of (pathVar ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
      const p = `${dir}/${name}`;
      if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
    }
    return null;
  };
  return {
    readOnly,
    // a probe for a tool that is not installed (ufw on a host without it) is answered from
    // PATH, as the spawn would answer it (ENOENT, exit 127), without forking a process
    async probe(file, args, opts = {}) {
      if (file.includes('/') || (await which(file, opts.env?.PATH))) return exec(file, args, opts);
      const result: RunResult = { command: redact([file, ...args].join(' ')), exitCode: 127, stdout: '', stderr: '', durationMs: 0, timedOut: false, notFound: true };
      onExec?.(result);
      if (!opts.allowFailure) throw new ProcError(result);
      return result;
    },
    async run(file, args, opts) {
      if (readOnly) throw new Error(`internal: '${redact([file, ...args].join(' '))}' attempted in read-only mode`);
      return exec(file, args, opts);
    },
    which: (name) => which(name),
  };
}

function pipeLines(stream: NodeJS.ReadableStream | null | undefined, cb: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      cb(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => {
    if (buf) cb(buf);
  });
}

// A child that lives as long as we hold it, and not longer: its stdin is a pipe from us
// and it must exit at end of input, which comes when we release it or when we die in any
// way (SIGKILL included: the kernel closes our end). For what only a separate process
// can hold for us, like a flock(1) lock. Not part of Proc: no step runs one.
export interface Tethered {
  /** The child's first line on stdout; rejects with its exit code if it ends first. */
  firstLine: Promise<string>;
  exited: Promise<number | null>;
  /** Ends its input and waits for it to exit. */
  release(): Promise<void>;
  /** Stops it from keeping this process alive (it still dies with us). */
  unref(): void;
}

export function spawnTethered(file: string, args: string[], env: Record<string, string> = { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }): Tethered {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(127));
    child.once('exit', (code) => resolve(code));
  });
  const firstLine = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const i = out.indexOf('\n');
      if (i >= 0) resolve(out.slice(0, i));
    });
    void exited.then((code) => reject(Object.assign(new Error(`${file} exited ${code}${stderr.trim() ? `: ${redact(stderr.trim())}` : ''}`), { exitCode: code })));
  });
  firstLine.catch(() => undefined);
  const streams = (): { ref?: () => void; unref?: () => void }[] => [child.stdin, child.stdout, child.stderr] as unknown as { ref?: () => void; unref?: () => void }[];
  return {
    firstLine,
    exited,
    async release() {
      // waited for, so it must keep us alive until it has gone
      child.ref();
      for (const s of streams()) s.ref?.();
      child.stdin.end();
      await exited;
    },
    unref() {
      child.unref();
      for (const s of streams()) s.unref?.();
    },
  };
}
