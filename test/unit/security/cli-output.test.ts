import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

// Issue 17 item 7: every message the CLI prints passes through redaction, because it is
// printed by src/cli/output.ts and nothing else writes to stdout or stderr (the logger
// redacts on its own and writes to a file descriptor).
test('only src/cli/output.ts writes to stdout/stderr', () => {
  const offenders: string[] = [];
  for (const f of readdirSync('src', { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.ts') || f === path.join('cli', 'output.ts')) continue;
    const text = readFileSync(path.join('src', f), 'utf8');
    for (const [i, line] of text.split('\n').entries()) {
      if (/process\.(stdout|stderr)\.write\(|console\.(log|error|warn|info)\(/.test(line)) offenders.push(`src/${f}:${i + 1}: ${line.trim()}`);
    }
  }
  assert.deepEqual(offenders, []);
});
