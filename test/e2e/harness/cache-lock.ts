import { existsSync, promises as fs } from 'node:fs';
import { cacheDir } from './paths.js';

// One builder at a time for a cached artefact (a root filesystem, downloaded .debs):
// two test runs on one machine (two worktrees, CI beside a developer) would otherwise
// debootstrap into the same temporary directory. mkdir is atomic; a lock whose holder
// is gone (SIGKILL) is taken over.
export async function withCacheLock<T>(name: string, fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  await fs.mkdir(cacheDir, { recursive: true });
  const lock = `${cacheDir}/.lock-${name}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.mkdir(lock);
      await fs.writeFile(`${lock}/pid`, String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(await fs.readFile(`${lock}/pid`, 'utf8').catch(() => '0'));
      if (holder > 0 && !existsSync(`/proc/${holder}`)) {
        await fs.rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock}: held by pid ${holder} for over ${timeoutMs / 60_000} min`, { cause: e });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}
