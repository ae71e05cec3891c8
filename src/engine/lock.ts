import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';

export class LockHeld extends Error {
  constructor(readonly pid: number) {
    super(`another joinagent is already running (pid ${pid}, lock ${paths.lock}): wait for it, or stop it with 'systemctl stop joinagent'`);
    this.name = 'LockHeld';
  }
}

// One agent per host: two converging at once would race on apt and on config files.
// The lock file holds our pid; a lock left by a dead process (crash, SIGKILL) is taken
// over, so a crashed agent never blocks the next run.
export async function acquireLock(files: Files, isAlive: (pid: number) => boolean = pidAlive): Promise<() => Promise<void>> {
  for (let i = 0; i < 3; i++) {
    if (await files.createExclusive(paths.lock, `${process.pid}\n`)) {
      return async () => {
        const owner = Number((await files.read(paths.lock))?.trim());
        if (owner === process.pid) await files.remove(paths.lock, { backup: false });
      };
    }
    const holder = Number((await files.read(paths.lock))?.trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) throw new LockHeld(holder);
    await files.remove(paths.lock, { backup: false });
  }
  throw new Error(`cannot take the lock ${paths.lock}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
