import type { Step } from './step.js';

export interface StepSelection {
  only?: string[];
  skip?: string[];
}

// --only / --skip: an operator who manages part of the host elsewhere (packages through
// their own tooling, a firewall owned by the security team) converges the rest. Steps
// left out of --only vanish and stop being dependencies; --skip keeps the step in the
// report as `skipped` so /status still shows the whole picture.
export function selectSteps(steps: Step[], sel: StepSelection): Step[] {
  const ids = new Set(steps.map((s) => s.id));
  const unknown = [...(sel.only ?? []), ...(sel.skip ?? [])].filter((id) => !ids.has(id));
  if (unknown.length) throw new UnknownStep(unknown, [...ids]);
  let out = steps;
  if (sel.only?.length) {
    const keep = new Set(sel.only);
    out = out.filter((s) => keep.has(s.id)).map((s) => ({ ...s, after: (s.after ?? []).filter((d) => keep.has(d)) }));
  }
  if (sel.skip?.length) {
    const skip = new Set(sel.skip);
    out = out.map((s) =>
      skip.has(s.id)
        ? { ...s, check: async () => ({ state: 'skip' as const, reason: 'skipped with --skip' }), apply: async () => undefined, verify: undefined }
        : s,
    );
  }
  return out;
}

export class UnknownStep extends Error {
  constructor(
    readonly unknown: string[],
    readonly known: string[],
  ) {
    super(`unknown step ${unknown.map((u) => `"${u}"`).join(', ')}; steps are: ${known.join(', ')}`);
    this.name = 'UnknownStep';
  }
}

export function parseStepList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
