import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { StepContext } from '../../../src/engine/step.js';
import { hostFiles } from '../../../src/host/files.js';
import { hostProc } from '../../../src/host/proc.js';
import { containerdVersionOutput } from '../../../src/steps/runtime/containerd-version.js';

// One `containerd --version` per binary: asked twice, it runs once; the binary replaced
// (an upgrade), it runs again and tells the new version.
test('containerd --version runs once per binary, again after the binary changes', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-ctrd-'));
  const oldPath = process.env.PATH;
  try {
    const bin = path.join(dir, 'containerd');
    const write = (v: string, mtime: number): void => {
      writeFileSync(bin, `#!/bin/sh\necho run >> ${dir}/runs\necho "containerd containerd.io ${v} abc"\n`);
      chmodSync(bin, 0o755);
      utimesSync(bin, mtime, mtime);
    };
    write('1.6.20', 1_000_000);
    process.env.PATH = `${dir}:${oldPath}`;
    const ctx = { proc: hostProc(true), files: hostFiles('/', true) } as unknown as StepContext;
    const a = await containerdVersionOutput(ctx);
    const b = await containerdVersionOutput(ctx);
    assert.match(a.stdout, /1\.6\.20/);
    assert.equal(b, a);
    write('2.1.9', 2_000_000);
    const c = await containerdVersionOutput(ctx);
    assert.match(c.stdout, /2\.1\.9/);
    assert.equal(readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n').length, 2);
  } finally {
    process.env.PATH = oldPath;
    rmSync(dir, { recursive: true, force: true });
  }
});
