import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SUMMARY_KEYS, summarize } from '../../../bench/summary.js';
import { renderTable } from '../../../bench/table.js';

// results.json's summary has exactly the keys issue 20 lists, from this run's sections;
// a section not run shows as not measured, never as an old figure.
test('summary: exactly the listed keys; missing sections are NaN and the table says "not measured"', () => {
  const sections = {
    noopRerun: { joinagentMedianS: 0.2, ansibleMedianS: 5, ansibleTasks: 16, idle: { rssMiB: 60, helloWorldRssMiB: 45 } },
    footprint: { startupToStatusMs: 90, helloWorldStartupMs: 60, binaryBytes: 105e6 },
  };
  const s = summarize(sections);
  assert.deepEqual(Object.keys(s), [...SUMMARY_KEYS]);
  assert.equal(s.noopSeconds, 0.2);
  assert.equal(s.ansibleTasks, 16);
  assert.ok(Number.isNaN(s.fleetJoined));
  const table = renderTable({ date: '2026-12-02T00:00:00Z', machine: 'm', quick: false, summary: s, sections });
  assert.match(table, /\| no-op re-run, converged \(joined\) node \| 0\.20 s \|/);
  assert.match(table, /\| 0\.20 s \|.*25\.0× joinagent.*\| ≤ 0\.15 s, ≥ 25× Ansible \| \*\*not met\*\* \|/);
  assert.match(table, /start-up to a served \/status \| 90\.0 ms = 1\.50× hello-world .* \| met \|/);
  assert.match(table, /fleet: not measured nodes/);
  assert.equal(JSON.parse(JSON.stringify(s)).fleetJoined, null);
});
