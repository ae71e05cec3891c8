import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { acquireLock, LockHeld } from '../../../src/engine/lock.js';
import { paths } from '../../../src/host/paths.js';
import { tempRoot } from '../../helpers/fakes.js';

// Issue 17 item 9: one agent per host. The lock was a file holding a pid: taking over a
// stale one could delete the lock another agent had just created (two agents ran on one
// root in 2 of 14 tries), and a stale one naming a live unrelated pid blocked every start.
// Now it is a kernel lock (flock) held by a process tied to the agent's lifetime.
const { root, cleanup } = tempRoot('ja-lock-');
after(cleanup);
const CHILD = path.join(import.meta.dirname, 'lock-child.ts');

interface Agent {
  p: ChildProcessByStdio<Writable, Readable, null>;
  next: () => Promise<string>;
}

function startAgent(r: string, log: string, holdMs: number): Agent {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, r, log, String(holdMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const it = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  return { p, next: async () => String((await it.next()).value) };
}

// A process that has exited: its pid is free, as after a crash.
async function deadPid(): Promise<number> {
  const p = spawn('true');
  await new Promise((r) => p.once('exit', r));
  return p.pid!;
}

describe('the agent lock', () => {
  it('many agents started at once over a stale lock: never two inside at the same time', { timeout: 180_000 }, async () => {
    const r = path.join(root, 'many');
    const log = path.join(r, 'log');
    mkdirSync(path.join(r, paths.runDir), { recursive: true });
    const agents = Array.from({ length: 10 }, () => startAgent(r, log, 100));
    try {
      for (const a of agents) assert.equal(await a.next(), 'ready');
      for (let round = 0; round < 5; round++) {
        // what a crashed agent of the old scheme left: a lock file naming a dead pid
        writeFileSync(path.join(r, paths.lock), `${await deadPid()}\n`);
        for (const a of agents) a.p.stdin.write('go\n');
        for (const a of agents) assert.equal(await a.next(), 'done');
      }
    } finally {
      for (const a of agents) a.p.stdin.end('quit\n');
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const inside = new Set<string>();
    let overlaps = 0;
    let entered = 0;
    for (const l of lines) {
      const [what, pid] = l.split(' ');
      if (what === 'enter') {
        entered++;
        if (inside.size) overlaps++;
        inside.add(pid);
      } else if (what === 'exit') inside.delete(pid);
    }
    assert.equal(overlaps, 0, `two agents held the lock at once ${overlaps} times:\n${lines.join('\n')}`);
    assert.deepEqual(lines.filter((l) => l.startsWith('error')), [], 'no agent failed to start for a reason other than a held lock');
    assert.ok(entered >= 5, `every round someone got the lock (${entered})`);
  });

  it('a lock file naming a live unrelated process does not block a start', async () => {
    const { files, root: r, cleanup: done } = tempRoot('ja-lock-pid-');
    try {
      mkdirSync(path.join(r, paths.runDir), { recursive: true });
      writeFileSync(path.join(r, paths.lock), '1\n'); // pid 1 is alive, and is not an agent
      const release = await acquireLock(files);
      await release();
    } finally {
      done();
    }
  });

  it('a second agent is refused while the first holds it, and gets it once the first is killed (SIGKILL)', { timeout: 60_000 }, async () => {
    const { files, root: r, cleanup: done } = tempRoot('ja-lock-kill-');
    const log = path.join(r, 'log');
    mkdirSync(path.join(r, paths.runDir), { recursive: true });
    const first = startAgent(r, log, 60_000);
    try {
      assert.equal(await first.next(), 'ready');
      first.p.stdin.write('go\n');
      for (let i = 0; i < 100 && !(existsSync(log) && readFileSync(log, 'utf8').includes('enter')); i++) await new Promise((x) => setTimeout(x, 50));
      await assert.rejects(acquireLock(files), (e: unknown) => e instanceof LockHeld && e.message.includes(`pid ${first.p.pid}`));
      first.p.kill('SIGKILL');
      await new Promise((x) => first.p.once('exit', x));
      let release: (() => Promise<void>) | undefined;
      for (let i = 0; i < 40 && !release; i++) {
        release = await acquireLock(files).catch(() => undefined);
        if (!release) await new Promise((x) => setTimeout(x, 50));
      }
      assert.ok(release, 'the lock died with its holder');
      assert.ok(existsSync(path.join(r, paths.lock)), 'and its file is never deleted (a file others have open)');
      await release();
    } finally {
      first.p.kill('SIGKILL');
      done();
    }
  });
});
