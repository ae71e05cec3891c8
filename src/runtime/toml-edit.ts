import { parseTOML, type AST } from 'toml-eslint-parser';
import { stringify } from 'smol-toml';

// Edits a TOML text in place, by source ranges from its syntax tree: a changed value
// replaces only that value's characters, a new key goes under its table's last key (or a
// new table header next to its siblings), a removed key takes only its own line. Comments,
// quoting, indentation and order everywhere else stay as the file had them, so a diff of
// before and after shows exactly the settings that changed.

export type TomlEdit = { op: 'set'; path: string[]; value: unknown } | { op: 'delete'; path: string[] };

/** An edit the range editor does not do (arrays of tables, a key under a scalar); the
 *  caller renders the whole document instead. */
export class TomlEditUnsupported extends Error {}

interface Table {
  key: string[];
  node: AST.TOMLTable | AST.TOMLTopLevelTable;
  array: boolean;
}
interface KeyValue {
  path: string[];
  node: AST.TOMLKeyValue;
  table: Table;
}
interface Index {
  tables: Table[];
  kvs: KeyValue[];
  literalStrings: boolean;
  step: number;
}

export function editToml(text: string, edits: TomlEdit[]): string {
  let out = text;
  for (const e of edits) out = e.op === 'set' ? setValue(out, e.path, e.value) : deletePath(out, e.path);
  return out;
}

function setValue(text: string, path: string[], value: unknown): string {
  const ix = index(text);
  const exact = ix.kvs.find((k) => same(k.path, path));
  if (exact) return splice(text, exact.node.value.range, renderValue(value, preferLiteral(exact.node.value, ix)));
  const through = ix.kvs.find((k) => isPrefix(k.path, path));
  if (through) throw new TomlEditUnsupported(`${path.join('.')}: set inside the value of ${through.path.join('.')}`);
  if (ix.tables.some((t) => t.array && isPrefix(t.key, path))) throw new TomlEditUnsupported(`${path.join('.')}: inside an array of tables`);
  const parent = path.slice(0, -1);
  const last = path[path.length - 1];
  const isEmptyTable = isPlainTable(value) && Object.keys(value).length === 0;
  const line = (keys: string[]): string => `${keys.map((k) => renderKey(k, ix.literalStrings)).join('.')} = ${renderValue(value, ix.literalStrings)}`;
  const own = ix.tables.find((t) => !t.array && same(t.key, parent));
  if (own && !isEmptyTable) return insertIntoTable(text, own, line([last]), ix);
  if (own && isEmptyTable) return insertHeader(text, path, null, ix);
  // the parent exists only through dotted keys of an enclosing table: extend those
  const dotted = ix.kvs.filter((k) => isPrefix(parent, k.path) && k.path.length > parent.length && parent.length > k.table.key.length);
  if (dotted.length && !isEmptyTable) {
    const t = dotted[dotted.length - 1];
    return insertAfter(text, t.node.range[1], lineIndent(text, t.node.range[0]), line(path.slice(t.table.key.length)));
  }
  return insertHeader(text, isEmptyTable ? path : parent, isEmptyTable ? null : line([last]), ix);
}

function deletePath(text: string, path: string[]): string {
  const ix = index(text);
  const ranges: [number, number][] = [];
  for (const t of ix.tables) if (t.node.type === 'TOMLTable' && isPrefix(path, t.key, true)) ranges.push(t.node.range);
  for (const k of ix.kvs) if (isPrefix(path, k.path, true) && !ranges.some((r) => r[0] <= k.node.range[0] && k.node.range[1] <= r[1])) ranges.push(k.node.range);
  let out = text;
  for (const [start, end] of ranges.sort((a, b) => b[0] - a[0])) out = out.slice(0, lineStart(out, start)) + out.slice(lineEnd(out, end, true));
  return out;
}

// A new `key = value` line under the table's last key (or right under its header).
function insertIntoTable(text: string, t: Table, line: string, ix: Index): string {
  const kvs = t.node.body.filter((n): n is AST.TOMLKeyValue => n.type === 'TOMLKeyValue');
  const lastKv = kvs[kvs.length - 1];
  if (lastKv) return insertAfter(text, lastKv.range[1], lineIndent(text, lastKv.range[0]), line);
  if (t.node.type === 'TOMLTopLevelTable') return line + '\n' + text;
  const headerIndent = lineIndent(text, t.node.range[0]);
  return insertAfter(text, t.node.key.range[1], headerIndent + ' '.repeat(ix.step), line);
}

// A new [table] header (with its first line), after the last table of the closest
// existing ancestor's family, indented one step deeper than that ancestor.
function insertHeader(text: string, key: string[], line: string | null, ix: Index): string {
  let anc: Table | undefined;
  for (const t of ix.tables) if (!t.array && t.node.type === 'TOMLTable' && isPrefix(t.key, key) && (!anc || t.key.length > anc.key.length)) anc = t;
  const rest = key.slice(anc?.key.length ?? 0).map((k) => renderKey(k, ix.literalStrings));
  const headerKey = anc && anc.node.type === 'TOMLTable' ? [text.slice(anc.node.key.range[0], anc.node.key.range[1]), ...rest].join('.') : rest.join('.');
  const indent = anc ? lineIndent(text, anc.node.range[0]) + ' '.repeat(ix.step) : '';
  let at = text.length;
  if (anc) {
    const i = ix.tables.indexOf(anc);
    let end = anc.node.range[1];
    for (const t of ix.tables.slice(i + 1)) {
      if (!isPrefix(anc.key, t.key)) break;
      end = t.node.range[1];
    }
    at = lineEnd(text, end, false);
  }
  const block = `\n\n${indent}[${headerKey}]${line === null ? '' : `\n${indent}${' '.repeat(ix.step)}${line}`}`;
  if (at === text.length) return text.replace(/\n*$/, '') + block + '\n';
  return text.slice(0, at) + block + text.slice(at);
}

function insertAfter(text: string, pos: number, indent: string, line: string): string {
  const at = lineEnd(text, pos, false);
  return text.slice(0, at) + '\n' + indent + line + text.slice(at);
}

function index(text: string): Index {
  const ast = parseTOML(text);
  const top = ast.body[0];
  const root: Table = { key: [], node: top, array: false };
  const tables: Table[] = [root];
  const kvs: KeyValue[] = [];
  let literal = 0;
  let basic = 0;
  const steps: number[] = [];
  const count = (isLiteral: boolean): void => {
    if (isLiteral) literal++;
    else basic++;
  };
  const visit = (t: Table): void => {
    for (const n of t.node.body) {
      if (n.type === 'TOMLKeyValue') {
        kvs.push({ path: [...t.key, ...n.key.keys.map(keyName)], node: n, table: t });
        if (n.value.type === 'TOMLValue' && n.value.kind === 'string') count(n.value.style === 'literal');
        if (t.node.type === 'TOMLTable') steps.push(lineIndent(text, n.range[0]).length - lineIndent(text, t.node.range[0]).length);
      } else if (n.type === 'TOMLTable') {
        for (const k of n.key.keys) if (k.type === 'TOMLQuoted') count(k.style === 'literal');
        const sub: Table = { key: n.resolvedKey.map(String), node: n, array: n.kind === 'array' };
        tables.push(sub);
        visit(sub);
      }
    }
  };
  visit(root);
  const step = steps.length ? Math.max(0, steps.sort((a, b) => a - b)[Math.floor(steps.length / 2)]) : 0;
  return { tables, kvs, literalStrings: literal > basic, step };
}

function keyName(k: AST.TOMLBare | AST.TOMLQuoted): string {
  return k.type === 'TOMLBare' ? k.name : k.value;
}

function preferLiteral(node: AST.TOMLContentNode, ix: Index): boolean {
  if (node.type === 'TOMLValue' && node.kind === 'string') return node.style === 'literal';
  return ix.literalStrings;
}

export function renderKey(k: string, literal: boolean): string {
  if (/^[A-Za-z0-9_-]+$/.test(k)) return k;
  return literal && !/['\n\r\p{Cc}]/u.test(k) ? `'${k}'` : JSON.stringify(k);
}

// One value as TOML source, strings in the file's quoting style where that is possible.
export function renderValue(v: unknown, literal: boolean): string {
  if (typeof v === 'string') return literal && !/['\p{Cc}]/u.test(v) ? `'${v}'` : JSON.stringify(v).replace(/\u007f/g, '\\u007f');
  if (Array.isArray(v)) return `[${v.map((x) => renderValue(x, literal)).join(', ')}]`;
  if (isPlainTable(v)) return `{ ${Object.entries(v).map(([k, x]) => `${renderKey(k, literal)} = ${renderValue(x, literal)}`).join(', ')} }`;
  // smol-toml writes -0 as 0.0: TOML's -0.0 keeps the sign, so the file reads back as desired
  if (Object.is(v, -0)) return '-0.0';
  return stringify({ v }, { numbersAsFloat: true }).replace(/^v = /, '').trim();
}

function isPlainTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// a is a prefix of b (a proper one unless orEqual).
function isPrefix(a: string[], b: string[], orEqual = false): boolean {
  return (orEqual ? a.length <= b.length : a.length < b.length) && a.every((x, i) => x === b[i]);
}

function splice(text: string, [start, end]: [number, number], s: string): string {
  return text.slice(0, start) + s + text.slice(end);
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

// End of the line holding pos (a trailing comment included); past its newline when asked.
function lineEnd(text: string, pos: number, pastNewline: boolean): number {
  const nl = text.indexOf('\n', pos);
  if (nl < 0) return text.length;
  return pastNewline ? nl + 1 : nl;
}

function lineIndent(text: string, pos: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, pos)))![0];
}
