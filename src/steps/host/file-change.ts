import { StepError, type Change, type StepContext } from '../../engine/step.js';
import { describeFailure, shellQuote, type RunOptions } from '../../host/proc.js';

type FileChange = Extract<Change, { kind: 'file' }>;

// The diff a check reports for one file: null when the host already has `wanted`.
export async function fileChange(ctx: StepContext, path: string, wanted: string): Promise<FileChange | null> {
  const before = await ctx.files.read(path);
  return before === wanted ? null : { kind: 'file', path, before, after: wanted };
}

// Applies the file changes a check found (and only those): every write is atomic and
// backed up by ctx.files, so a reset can restore the original.
export async function writeFileChanges(ctx: StepContext, changes: Change[], mode?: number): Promise<string[]> {
  const written: string[] = [];
  for (const c of changes) {
    if (c.kind !== 'file') continue;
    if (c.after === null) await ctx.files.remove(c.path);
    else await ctx.files.write(c.path, c.after, mode === undefined ? {} : { mode });
    written.push(c.path);
  }
  return written;
}

const warned = new WeakMap<object, Set<string>>();

// check() runs twice per run (check, then verify): a warning found there is emitted once
// per run. ctx.published is the one object a whole run shares, so it keys the memory.
export function warnOnce(ctx: StepContext, message: string, hint?: string): void {
  let seen = warned.get(ctx.published);
  if (!seen) warned.set(ctx.published, (seen = new Set()));
  if (seen.has(message)) return;
  seen.add(message);
  ctx.warn(message, hint);
}

// Ensures text ends with exactly one newline (files we render are line-oriented).
export function withFinalNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : text + '\n';
}

const RUN_PREFIX = 'run: ';

// A change that is one command: apply runs exactly the argv the check planned (a swap
// file may be "/swap file": a string split back on spaces is another command), and plan
// prints it as a shell would need it typed.
export function commandChange(argv: string[], undo?: string[][]): Change {
  return { kind: 'action', description: RUN_PREFIX + argv.map(shellQuote).join(' '), argv, ...(undo ? { undo } : {}) };
}

// The argv of a commandChange, or null for any other change.
export function commandOf(c: Change): string[] | null {
  return c.kind === 'action' && c.argv && c.description.startsWith(RUN_PREFIX) ? c.argv : null;
}

// Runs the commands a check planned (commandChange), in order; the first failure becomes
// a StepError named after the step, with the hint the step gives for that command.
export async function runCommandChanges(ctx: StepContext, step: string, changes: Change[], hint: (argv: string[]) => string, opts: RunOptions = {}): Promise<void> {
  for (const c of changes) {
    const argv = commandOf(c);
    if (!argv) continue;
    const r = await ctx.proc.run(argv[0], argv.slice(1), { ...opts, allowFailure: true });
    if (r.exitCode !== 0) throw new StepError(`${step}: ${describeFailure(r)}`, hint(argv));
  }
}
