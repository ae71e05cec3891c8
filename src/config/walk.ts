import { isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';
import { redact } from '../host/redact.js';

// A tiny schema language for the config files: enough to check types, enums, formats
// and unknown keys while keeping each problem tied to its YAML node position.
export type Spec =
  | { t: 'string'; check?: (v: string) => string | undefined; enum?: readonly string[]; default?: string }
  | { t: 'bool'; default?: boolean }
  | { t: 'int'; min?: number; max?: number; default?: number }
  | { t: 'object'; fields: Record<string, Spec>; required?: readonly string[]; reject?: Record<string, string> }
  | { t: 'array'; items: Spec }
  | { t: 'map'; values: Spec; key?: (k: string) => string | undefined }
  | { t: 'either'; options: readonly Spec[]; describe: string };

export interface Problem {
  path: string;
  message: string;
  line: number;
  col: number;
  severity: 'error' | 'warning';
}

export interface WalkContext {
  lines: LineCounter;
  problems: Problem[];
  /** field path -> node, so later cross-field checks can point at the right line */
  nodes: Map<string, Node>;
  /** field path -> its key node: a wrong block mapping/list is reported at its key's line */
  keys?: Map<string, Node>;
}

export function position(ctx: WalkContext, node: Node | null | undefined, fallbackOffset = 0): { line: number; col: number } {
  const off = node?.range?.[0] ?? fallbackOffset;
  const p = ctx.lines.linePos(off);
  return { line: p.line, col: p.col };
}

export function report(ctx: WalkContext, path: string, node: Node | null | undefined, message: string, severity: Problem['severity'] = 'error'): void {
  const { line, col } = position(ctx, node);
  // a message echoes the value it is about, which may be a token pasted in the wrong place
  ctx.problems.push({ path: redact(path), message: redact(message), line, col, severity });
}

// Walks a YAML node against a spec; returns the plain value (undefined when invalid).
export function walk(ctx: WalkContext, spec: Spec, node: Node | null | undefined, path: string): unknown {
  if (node) ctx.nodes.set(path, node);
  if (node == null || (isScalar(node) && node.value === null)) return undefined;
  switch (spec.t) {
    case 'string': {
      if (!isScalar(node) || typeof node.value === 'object') return typeError(ctx, path, node, 'a string');
      // YAML turns 1.20 into a number and yes into a boolean: accept scalars that
      // were written plainly but keep the source text, so "1.30" stays "1.30".
      const v = typeof node.value === 'string' ? node.value : String(node.source ?? node.value);
      // no value joinagent reads is multi-line: a control character (a line break in a
      // URL that ends up in a repository file, in a path, a socket) only ever injects
      const ctl = [...v].find((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
      if (ctl) {
        report(ctx, path, node, `contains a control character (U+${ctl.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}): not allowed in any value`);
        return undefined;
      }
      if (spec.enum && !spec.enum.includes(v)) {
        report(ctx, path, node, `"${v}" is not one of ${spec.enum.join(' | ')}${suggest(v, spec.enum)}`);
        return undefined;
      }
      const msg = spec.check?.(v);
      if (msg) {
        report(ctx, path, node, msg);
        return undefined;
      }
      return v;
    }
    case 'bool':
      if (!isScalar(node) || typeof node.value !== 'boolean') return typeError(ctx, path, node, 'true or false');
      return node.value;
    case 'int': {
      if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) return typeError(ctx, path, node, 'an integer');
      const n = node.value;
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        report(ctx, path, node, `${n} is out of range (${spec.min ?? '-∞'}..${spec.max ?? '∞'})`);
        return undefined;
      }
      return n;
    }
    case 'array': {
      if (!isSeq(node)) return typeError(ctx, path, node, 'a list');
      return node.items.map((item, i) => walk(ctx, spec.items, item as Node, `${path}[${i}]`));
    }
    case 'map': {
      if (!isMap(node)) return typeError(ctx, path, node, 'a mapping');
      const out: Record<string, unknown> = {};
      for (const pair of node.items as Pair<Node, Node>[]) {
        const key = keyOf(pair);
        const kp = joinPath(path, key);
        const km = spec.key?.(key);
        if (km) report(ctx, kp, pair.key, km);
        own(out, key, walk(ctx, spec.values, pair.value, kp));
      }
      return out;
    }
    case 'object': {
      if (!isMap(node)) return typeError(ctx, path, node, 'a mapping');
      const out: Record<string, unknown> = {};
      const seen = new Set<string>();
      for (const pair of node.items as Pair<Node, Node>[]) {
        const key = keyOf(pair);
        const kp = joinPath(path, key);
        if (seen.has(key)) {
          report(ctx, kp, pair.key, `duplicate key "${key}"`);
          continue;
        }
        seen.add(key);
        // own properties only: "toString" or "__proto__" are on every object's prototype
        if (spec.reject && Object.hasOwn(spec.reject, key)) {
          report(ctx, kp, pair.key, spec.reject[key]);
          continue;
        }
        const fieldSpec = Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
        if (!fieldSpec) {
          report(ctx, kp, pair.key, `unknown field "${key}"${suggest(key, Object.keys(spec.fields))}`);
          continue;
        }
        ctx.nodes.set(kp, pair.value ?? (pair.key as Node));
        (ctx.keys ??= new Map()).set(kp, pair.key as Node);
        const v = walk(ctx, fieldSpec, pair.value, kp);
        if (v !== undefined) own(out, key, v);
      }
      for (const req of spec.required ?? []) {
        const rp = joinPath(path, req);
        const rn = ctx.nodes.get(rp);
        if (!seen.has(req)) report(ctx, rp, ctx.keys?.get(path) ?? node, `required field "${req}" is missing`);
        else if (out[req] === undefined && isScalar(rn) && rn.value === null) report(ctx, rp, rn, `required field "${req}" is empty`);
      }
      return out;
    }
    case 'either': {
      for (const opt of spec.options) {
        const probe: WalkContext = { lines: ctx.lines, problems: [], nodes: new Map() };
        const v = walk(probe, opt, node, path);
        if (probe.problems.length === 0) {
          for (const [k, n] of probe.nodes) ctx.nodes.set(k, n);
          return v;
        }
      }
      return typeError(ctx, path, node, spec.describe);
    }
  }
}

// out[key] = v, as an own property whatever the key: assigning "__proto__" would set the
// object's prototype instead (prototype pollution of the parsed config)
function own(out: Record<string, unknown>, key: string, v: unknown): void {
  Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
}

function typeError(ctx: WalkContext, path: string, node: Node, want: string): undefined {
  const at = isMap(node) || isSeq(node) ? (ctx.keys?.get(path) ?? node) : node;
  report(ctx, path, at, `expected ${want}, got ${describeNode(node)}`);
  return undefined;
}

function describeNode(node: Node): string {
  if (isAlias(node)) return 'an alias (*name): YAML aliases are not supported here, write the value out';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return `the string "${truncate(v)}"`;
    if (typeof v === 'number') return `the number ${String(node.source ?? v)}`;
    if (typeof v === 'boolean') return `the boolean ${v}`;
  }
  return 'something else';
}

function keyOf(pair: Pair<Node, Node>): string {
  const k = pair.key as unknown;
  if (isScalar(k)) return String(k.value);
  return String(k);
}

export function joinPath(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

// redacted before it is cut: a cut token would no longer be recognised as one
function truncate(s: string, n = 40): string {
  const r = redact(s);
  return r.length > n ? `${r.slice(0, n)}…` : r;
}

// "did you mean" for unknown keys and enum values: closest candidate within a small
// edit distance, compared case-insensitively (kubeletExtraArgs vs KubeletExtraArgs), or
// the one the word is a shortening of (JoinConfig for JoinConfiguration).
export function suggest(word: string, candidates: readonly string[]): string {
  const w = word.toLowerCase();
  const longer = w.length >= 4 ? candidates.filter((c) => c.toLowerCase().startsWith(w)) : [];
  if (longer.length === 1) return ` (did you mean "${longer[0]}"?)`;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3))) return ` (did you mean "${best}"?)`;
  return '';
}

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
