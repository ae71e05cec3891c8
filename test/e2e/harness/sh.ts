import { execa, type Options } from 'execa';

// The harness runs host-side commands as root (debootstrap, ip, nsenter, nft). One
// wrapper so every failure names the command and shows its output tail.
export interface ShResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ShOptions {
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Non-zero exit is returned instead of thrown. */
  allowFailure?: boolean;
  /** Stream output to the terminal (debootstrap, the demo's live agent). */
  inherit?: boolean;
}

export async function sh(file: string, args: string[], opts: ShOptions = {}): Promise<ShResult> {
  const o: Options = {
    input: opts.input,
    cwd: opts.cwd,
    env: { LC_ALL: 'C', ...opts.env },
    timeout: opts.timeoutMs ?? 10 * 60_000,
    reject: false,
    ...(opts.inherit ? { stdout: 'inherit', stderr: 'inherit' } : {}),
  };
  const r = await execa(file, args, o);
  const res = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: typeof r.exitCode === 'number' ? r.exitCode : -1 };
  if (res.exitCode !== 0 && !opts.allowFailure) {
    const tail = (res.stderr.trim() || res.stdout.trim()).split('\n').slice(-15).join('\n');
    throw new Error(`${file} ${args.join(' ')} exited ${res.exitCode}${r.timedOut ? ' (timed out)' : ''}${tail ? `:\n${tail}` : ''}`);
  }
  return res;
}

// Polls until fn returns a value (not undefined) or the deadline passes; the last
// error or value is in the timeout message, so a hung scenario says what it waited for.
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      if ((e as { fatal?: boolean }).fatal) throw e;
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
