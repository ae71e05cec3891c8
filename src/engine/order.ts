import type { Step } from './step.js';

// Orders steps by their declared `after` dependencies (stable: declaration order breaks
// ties) and rejects unknown ids and cycles, which are programming errors.
export function orderSteps(steps: Step[]): Step[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  for (const s of steps) {
    for (const d of s.after ?? []) {
      if (!byId.has(d)) throw new Error(`internal: step ${s.id} depends on unknown step ${d}`);
    }
  }
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: Step[] = [];
  const visit = (s: Step): void => {
    if (done.has(s.id)) return;
    if (visiting.has(s.id)) throw new Error(`internal: dependency cycle through step ${s.id}`);
    visiting.add(s.id);
    for (const d of s.after ?? []) visit(byId.get(d)!);
    visiting.delete(s.id);
    done.add(s.id);
    out.push(s);
  };
  for (const s of steps) visit(s);
  return out;
}
