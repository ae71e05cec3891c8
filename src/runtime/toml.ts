import { isDeepStrictEqual } from 'node:util';
import { parse, stringify, TomlError } from 'smol-toml';
import { editToml, TomlEditUnsupported, type TomlEdit } from './toml-edit.js';

// TOML handling for containerd's config: parse keeping integer vs float types (a float
// `pause_threshold = 0.02` and an integer `oom_score = 0` must come back as written), and
// render deterministically so "same settings" compares as "same text".

export type TomlTable = Record<string, unknown>;

export class TomlSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    detail: string,
  ) {
    super(`${file}:${line}:${column}: not valid TOML: ${detail}`);
    this.name = 'TomlSyntaxError';
  }
}

export function parseToml(text: string, file = 'config.toml'): TomlTable {
  try {
    return parse(text, { integersAsBigInt: true }) as TomlTable;
  } catch (e) {
    if (e instanceof TomlError) throw new TomlSyntaxError(file, e.line, e.column, e.message.split('\n')[0]);
    throw e;
  }
}

export function renderToml(doc: TomlTable): string {
  return stringify(doc, { numbersAsFloat: true });
}

export function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

// The table at a key path, created (empty) along the way when absent.
export function tableAt(doc: TomlTable, path: string[]): TomlTable {
  let cur = doc;
  for (const k of path) {
    if (!isTable(cur[k])) cur[k] = {};
    cur = cur[k] as TomlTable;
  }
  return cur;
}

// The value at a key path, or undefined; never creates anything.
export function valueAt(doc: TomlTable, path: string[]): unknown {
  let cur: unknown = doc;
  for (const k of path) {
    if (!isTable(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

// Deep copy that keeps bigints and TOML dates (structuredClone would turn tables into
// plain objects too, but this keeps the intent visible).
export function cloneToml<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneToml) as T;
  if (isTable(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneToml(x)])) as T;
  return v;
}

// `over` wins key by key; tables merge recursively, arrays and scalars replace.
export function deepMerge(base: TomlTable, over: TomlTable): TomlTable {
  const out = cloneToml(base);
  for (const [k, v] of Object.entries(over)) {
    const value = isTable(v) && isTable(out[k]) ? deepMerge(out[k] as TomlTable, v) : cloneToml(v);
    // defineProperty, not `out[k] =`: a key named __proto__ (legal in TOML and YAML) must
    // stay a key, not replace the table's prototype
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// The leaf edits that turn `before` into `after`: a set per changed or added value (a
// new empty table as a set of {}), a delete per removed key or table.
export function diffEdits(before: TomlTable, after: TomlTable, prefix: string[] = []): TomlEdit[] {
  const out: TomlEdit[] = [];
  for (const k of Object.keys(before)) if (!(k in after)) out.push({ op: 'delete', path: [...prefix, k] });
  for (const [k, v] of Object.entries(after)) {
    const path = [...prefix, k];
    const old = before[k];
    if (isTable(v)) {
      if (old !== undefined && !isTable(old)) out.push({ op: 'delete', path });
      if (!isTable(old) && Object.keys(v).length === 0) out.push({ op: 'set', path, value: {} });
      else out.push(...diffEdits(isTable(old) ? old : {}, v, path));
    } else if (!sameToml(old, v)) {
      if (isTable(old)) out.push({ op: 'delete', path });
      out.push({ op: 'set', path, value: v });
    }
  }
  return out;
}

// `desired` written as an edit of `text`: only what differs changes, comments and layout
// stay. The result is parsed back and must be exactly `desired`; an edit the range editor
// cannot do (or a result that would not read back the same) renders the whole document.
export function renderPreserving(text: string, desired: TomlTable): { text: string; preserved: boolean } {
  try {
    const out = editToml(text, diffEdits(parseToml(text), desired));
    if (sameToml(parseToml(out), desired)) return { text: out, preserved: true };
  } catch (e) {
    if (!(e instanceof TomlEditUnsupported) && !(e instanceof TomlSyntaxError)) throw e;
  }
  return { text: renderToml(desired), preserved: false };
}

// Same values, whatever the objects' prototypes (the parser's tables and plain objects
// compare equal); integers stay apart from floats (1n is not 1).
export function sameToml(a: unknown, b: unknown): boolean {
  if (isTable(a) && isTable(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameToml(a[k], b[k]));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameToml(x, b[i]));
  return isDeepStrictEqual(a, b);
}
