import { parse, stringify, TomlError } from 'smol-toml';

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
    out[k] = isTable(v) && isTable(out[k]) ? deepMerge(out[k] as TomlTable, v) : cloneToml(v);
  }
  return out;
}
