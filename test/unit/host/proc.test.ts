import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, test } from 'node:test';
import { hostProc, ProcError } from '../../../src/host/proc.js';
import { redact, registerSecret } from '../../../src/host/redact.js';

describe('proc', () => {
  it('captures output, reports exit codes and missing commands', async () => {
    const p = hostProc();
    const r = await p.probe('sh', ['-c', 'echo out; echo err >&2; exit 3'], { allowFailure: true });
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    await assert.rejects(p.probe('sh', ['-c', 'echo boom >&2; exit 4']), (e: unknown) => e instanceof ProcError && /exited 4: boom/.test(e.message));
    const nf = await p.probe('definitely-not-a-command-xyz', [], { allowFailure: true });
    assert.equal(nf.notFound, true);
    await assert.rejects(p.probe('definitely-not-a-command-xyz', []), /command not found/);
  });

  it('times out', async () => {
    const r = await hostProc().probe('sleep', ['5'], { timeoutMs: 200, allowFailure: true });
    assert.equal(r.timedOut, true);
  });

  it('redacts secrets from output and streamed lines', async () => {
    registerSecret('zyxwvu.0123456789zyxwvu');
    const lines: string[] = [];
    const r = await hostProc().probe('sh', ['-c', 'echo token zyxwvu.0123456789zyxwvu; cat'], { input: 'secret 0123456789zyxwvu\n', onLine: (l) => lines.push(l) });
    assert.doesNotMatch(r.stdout, /0123456789zyxwvu/);
    assert.doesNotMatch(lines.join('\n'), /0123456789zyxwvu/);
    assert.match(r.stdout, /zyxwvu\.<redacted>/);
    assert.equal(redact('a 0123456789zyxwvu b'), 'a <redacted> b');
  });

  it('run() refuses in read-only mode; probe() still works', async () => {
    const p = hostProc(true);
    await assert.rejects(p.run('true', []), /read-only mode/);
    assert.equal((await p.probe('true', [])).exitCode, 0);
  });
});

// A probe for a tool that is not installed is answered from PATH without a fork, exactly
// as the spawn would answer (ufw on a host without it: a no-op run must not pay a fork).
test('probe of a tool not on PATH: exit 127, notFound, no process; run() and tools on PATH still spawn', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-proc-'));
  try {
    writeFileSync(path.join(dir, 'present'), '#!/bin/sh\necho here\n', { mode: 0o755 });
    const seen: string[] = [];
    const proc = hostProc(false, (r) => seen.push(`${r.command}=${r.exitCode}`));
    const missing = await proc.probe('no-such-tool-xyz', ['status'], { allowFailure: true, env: { PATH: dir } });
    assert.equal(missing.exitCode, 127);
    assert.equal(missing.notFound, true);
    await assert.rejects(proc.probe('no-such-tool-xyz', [], { env: { PATH: dir } }), /command not found/);
    const present = await proc.probe('present', [], { env: { PATH: dir } });
    assert.equal(present.stdout, 'here\n');
    assert.deepEqual(seen, ['no-such-tool-xyz status=127', 'no-such-tool-xyz=127', 'present=0']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
