import { createTwoFilesPatch } from 'diff';
import type { StepOutcome } from '../engine/engine.js';
import type { Change } from '../engine/step.js';
import { redact } from '../host/redact.js';

// `plan` output: one line per step (ok / would change / skipped / failed) and under each
// change a readable diff: unified diff for files, live -> wanted for values.
export function renderPlan(outcomes: StepOutcome[], titles: Map<string, string>): string {
  const out: string[] = [];
  const width = Math.max(4, ...outcomes.map((o) => o.id.length));
  for (const o of outcomes) {
    const label = o.state === 'changed' ? 'would change' : o.state;
    out.push(`${o.id.padEnd(width)}  ${label.padEnd(12)}  ${titles.get(o.id) ?? ''}${o.state !== 'ok' && o.state !== 'changed' && o.message ? ` (${o.message})` : ''}`);
    if (o.state === 'failed' && o.hint) out.push(`${' '.repeat(width + 2)}hint: ${o.hint}`);
    for (const c of o.changes) out.push(...renderChange(c).map((l) => `    ${l}`));
  }
  out.push('', planSummary(outcomes));
  return redact(out.join('\n')) + '\n';
}

// The last line: a plan whose checks failed is not "everything is ok" (what a run would do
// past a failed check is unknown, so it is named, not counted as nothing).
export function planSummary(outcomes: StepOutcome[]): string {
  const n = outcomes.filter((o) => o.state === 'changed').length;
  const failed = outcomes.filter((o) => o.state === 'failed').map((o) => o.id);
  const changes = `${n} step${n === 1 ? '' : 's'} would change`;
  if (failed.length) return `plan: ${failed.length} check${failed.length === 1 ? '' : 's'} failed (${failed.join(', ')})${n ? `; ${changes}` : ''}`;
  return n === 0 ? 'plan: everything is ok; a run would change nothing' : `plan: ${changes}`;
}

export function renderChange(c: Change): string[] {
  switch (c.kind) {
    case 'value':
      return [`${c.name}: ${c.live} -> ${c.wanted}`];
    case 'action':
      return [`* ${c.description}`];
    case 'file': {
      if (c.after === null) return [`- remove ${c.path}`];
      const patch = createTwoFilesPatch(c.before === null ? '/dev/null' : c.path, c.path, c.before ?? '', c.after, '', '', { context: 2 });
      return patch.split('\n').slice(2).filter((l, i, a) => !(i === a.length - 1 && l === ''));
    }
  }
}
