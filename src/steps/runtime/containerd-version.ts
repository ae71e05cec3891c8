import type { StepContext } from '../../engine/step.js';
import type { RunResult } from '../../host/proc.js';

// `containerd --version`, asked by the config step and the cgroup-driver check (and again
// when each verifies): one process per binary. The answer is kept for the binary it came
// from, found on PATH and known by its size and mtime: an upgrade (dpkg and rpm replace
// the file) changes them, and the next question runs the binary again.
const seen = new Map<string, RunResult>();

export async function containerdVersionOutput(ctx: StepContext): Promise<RunResult> {
  const bin = await ctx.proc.which('containerd');
  const st = bin ? await ctx.files.stat(bin).catch(() => null) : null;
  const key = bin && st ? `${bin}:${st.size}:${st.mtimeMs}` : undefined;
  const known = key ? seen.get(key) : undefined;
  if (known) return known;
  const r = await ctx.proc.probe('containerd', ['--version'], { allowFailure: true, timeoutMs: 30_000 });
  if (key && r.exitCode === 0) seen.set(key, r);
  return r;
}
