import { countChanges, type SnapshotDiff } from './diff.js';

// The terminal form of a diff: per view what appeared (+), disappeared (-) and changed
// (~ before -> after); quiet views are listed on one line at the end.
export function renderDiff(d: SnapshotDiff, names: { a: string; b: string }): string {
  const out: string[] = [];
  out.push(`--- ${d.a.label}  ${d.a.takenAt}  ${d.a.hostname}  (${names.a})`);
  out.push(`+++ ${d.b.label}  ${d.b.takenAt}  ${d.b.hostname}  (${names.b})`);
  const quiet: string[] = [];
  let ignored = 0;
  for (const v of d.views) {
    ignored += v.ignored;
    if (v.status === 'missing') continue;
    const n = v.appeared.length + v.disappeared.length + v.changed.length;
    if (n === 0) {
      quiet.push(v.title);
      continue;
    }
    out.push('', `${v.title}: ${[count(v.appeared.length, 'appeared'), count(v.disappeared.length, 'disappeared'), count(v.changed.length, 'changed')].filter(Boolean).join(', ')}${v.note ? ` (${v.note})` : ''}`);
    const w = Math.min(60, Math.max(...[...v.appeared, ...v.disappeared, ...v.changed].map((i) => i.key.length)));
    for (const i of v.appeared) out.push(`  + ${i.key.padEnd(w)}  ${i.value}`.trimEnd());
    for (const i of v.disappeared) out.push(`  - ${i.key.padEnd(w)}  ${i.value}`.trimEnd());
    for (const i of v.changed) out.push(`  ~ ${i.key.padEnd(w)}  ${i.before} -> ${i.after}`);
  }
  out.push('');
  if (quiet.length) out.push(`unchanged: ${quiet.join(', ')}`);
  for (const v of d.views.filter((x) => x.status === 'missing')) out.push(`not compared: ${v.title} (${v.reason})`);
  const total = countChanges(d);
  out.push(`${total} difference${total === 1 ? '' : 's'}; ${ignored} noisy item${ignored === 1 ? '' : 's'} ignored (counters, PIDs, sessions, ephemeral ports)`);
  return out.join('\n') + '\n';
}

function count(n: number, what: string): string {
  return n ? `${n} ${what}` : '';
}
