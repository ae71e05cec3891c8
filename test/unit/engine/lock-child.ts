import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { acquireLock, LockHeld } from '../../../src/engine/lock.js';
import { hostFiles } from '../../../src/host/files.js';

// One "agent" of lock.test.ts: takes the lock of ROOT when told to (a line on stdin),
// records entering and leaving its critical section in LOG, and says when it is done.
const [root, log, hold] = process.argv.slice(2);
const files = hostFiles(root);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
for (;;) {
  const next = await lines.next();
  if (next.done || next.value === 'quit') break;
  try {
    const release = await acquireLock(files);
    appendFileSync(log, `enter ${process.pid}\n`);
    await new Promise((r) => setTimeout(r, Number(hold)));
    appendFileSync(log, `exit ${process.pid}\n`);
    await release();
  } catch (e) {
    appendFileSync(log, e instanceof LockHeld ? `busy ${process.pid}\n` : `error ${process.pid} ${(e as Error).message}\n`);
  }
  process.stdout.write('done\n');
}
process.exit(0);
