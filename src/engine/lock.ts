import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { spawnTethered } from '../host/proc.js';

export class LockHeld extends Error {
  constructor(readonly pid: number | undefined) {
    super(`another joinagent is already running (${pid ? `pid ${pid}` : 'pid unknown'}, lock ${paths.lock}): wait for it, or stop it with 'systemctl stop joinagent'`);
    this.name = 'LockHeld';
  }
}

// exit code flock(1) gives when the lock is held by someone else (--conflict-exit-code)
const HELD = 75;

// One agent per host: two converging at once would race on apt and on config files.
// The lock is the kernel's: flock(2) on /run/joinagent/lock, held by a flock(1) process
// tethered to this one (proc.ts: it ends when we release it or when we die, SIGKILL
// included), so no stale lock can outlive a crash, no pid is ever judged alive or dead,
// and the file is never deleted (deleting a file others have open would let a second
// agent lock a new one). Node has no flock binding; util-linux's flock(1) is on every
// host joinagent supports. The holder writes our pid into the file, for the message a
// second agent gets.
export async function acquireLock(files: Files, onLost?: () => void): Promise<() => Promise<void>> {
  await files.mkdir(paths.runDir, 0o700);
  const lockFile = files.resolve(paths.lock);
  const flock = await findFlock();
  // /bin/sh builtins only (the agent's PATH may have nothing on it): write the pid,
  // say so, then wait for end of input
  const holder = spawnTethered(flock, ['--exclusive', '--nonblock', '--conflict-exit-code', String(HELD), lockFile, '/bin/sh', '-c', 'echo "$1" > "$2" && echo locked && while read -r _; do :; done', 'sh', String(process.pid), lockFile]);
  try {
    const line = await holder.firstLine;
    if (line !== 'locked') throw new Error(`cannot take the lock ${paths.lock}: flock said "${line}"`);
  } catch (e) {
    if ((e as { exitCode?: number }).exitCode === HELD) {
      const pid = Number((await files.read(paths.lock))?.trim());
      throw new LockHeld(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    }
    throw new Error(`cannot take the lock ${paths.lock}: ${(e as Error).message}`, { cause: e });
  }
  holder.unref();
  let released = false;
  void holder.exited.then(() => {
    if (!released) onLost?.();
  });
  return async () => {
    released = true;
    await holder.release();
  };
}

async function findFlock(): Promise<string> {
  const { access, constants } = await import('node:fs/promises');
  for (const p of ['/usr/bin/flock', '/bin/flock', '/usr/sbin/flock', '/sbin/flock']) {
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  throw new Error('flock (util-linux) is not installed: joinagent needs it to make sure only one agent runs');
}
