import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deepMerge, type TomlTable } from '../../../src/runtime/toml.js';

test('deepMerge: over wins key by key, tables merge, arrays replace', () => {
  const base: TomlTable = { a: 1, t: { x: 1, y: [1, 2] } };
  const out = deepMerge(base, { t: { y: [3], z: 'z' }, b: true });
  assert.deepEqual(out, { a: 1, b: true, t: { x: 1, y: [3], z: 'z' } });
  assert.deepEqual(base, { a: 1, t: { x: 1, y: [1, 2] } }, 'base untouched');
});

test('deepMerge: a key named __proto__ stays a key and changes no prototype', () => {
  // what JSON.parse / a YAML or TOML parser hands over for a "__proto__" key: an own property
  const over = JSON.parse('{"__proto__": {"polluted": true}, "t": {"__proto__": {"deep": 1}}}') as TomlTable;
  const out = deepMerge({ t: { x: 1 } }, over);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal((out as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.keys(out).sort(), ['__proto__', 't']);
  assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: true });
  const t = out.t as TomlTable;
  assert.equal(Object.getPrototypeOf(t), Object.prototype);
  assert.deepEqual(Object.keys(t).sort(), ['__proto__', 'x']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});
