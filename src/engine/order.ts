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

// The order in which runnable steps are started: longest chain of dependents first
// (list scheduling on the critical path), declared order among equals. The package
// install heads the longest chain (containerd config, images, join), so it must not
// wait behind quick independent steps for one of the two slots.
export function criticalFirst(ordered: Step[]): Step[] {
  const dependents = new Map<string, Step[]>(ordered.map((s) => [s.id, []]));
  for (const s of ordered) for (const d of s.after ?? []) dependents.get(d)!.push(s);
  const height = new Map<string, number>();
  // ordered is topological: walking it backwards sees every dependent before its prerequisite
  for (const s of [...ordered].reverse()) height.set(s.id, 1 + Math.max(0, ...dependents.get(s.id)!.map((d) => height.get(d.id)!)));
  return ordered.map((s, i) => ({ s, i })).sort((a, b) => height.get(b.s.id)! - height.get(a.s.id)! || a.i - b.i).map((x) => x.s);
}
