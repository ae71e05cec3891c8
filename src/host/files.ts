import { closeSync, constants, fstatSync, openSync, promises as fs, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { atomicWrite } from './atomic-write.js';
import { readManifest, recordBefore, recordWritten, stamp, type ManifestHooks } from './backup-manifest.js';
import { paths } from './paths.js';

// The only module that touches files. Every path is a host path ("/etc/hosts") mapped
// under `root`, so tests (and `--root`) run the real code against a temp directory.
export interface WriteOptions {
  mode?: number;
  /** Keep a copy of the previous content under the backup dir (default true). */
  backup?: boolean;
}

export interface WriteResult {
  changed: boolean;
  backup?: string;
}

export interface Files {
  readonly root: string;
  readonly readOnly: boolean;
  resolve(hostPath: string): string;
  read(hostPath: string): Promise<string | null>;
  readBytes(hostPath: string): Promise<Buffer | null>;
  exists(hostPath: string): Promise<boolean>;
  stat(hostPath: string): Promise<{ mode: number; size: number; uid: number; gid: number; mtimeMs: number; isDir: boolean } | null>;
  list(hostDir: string): Promise<string[]>;
  /** list() with each entry's type from the directory itself (no lstat per entry). */
  listTyped(hostDir: string): Promise<{ name: string; type: FileType }[]>;
  /** Many small files (procfs, sysfs) at once: null for one that cannot be read. */
  readSmall(hostPaths: string[]): Promise<(string | null)[]>;
  /** Many symlink targets (/proc/PID/ns/*, /proc/PID/fd/*) at once: null where none. */
  readlinks(hostPaths: string[]): Promise<(string | null)[]>;
  /** Many directory listings (/proc/PID/fd) at once: [] for one that cannot be read. */
  lists(hostDirs: string[]): Promise<string[][]>;
  /** Like stat() but does not follow a final symlink (trees, /proc links). */
  lstat(hostPath: string): Promise<{ type: FileType; mode: number; size: number } | null>;
  /** A symlink's target, as stored (/proc/PID/ns/net -> "net:[4026531840]"); null if absent or not a link. */
  readlink(hostPath: string): Promise<string | null>;
  write(hostPath: string, content: string | Buffer, opts?: WriteOptions): Promise<WriteResult>;
  remove(hostPath: string, opts?: { backup?: boolean }): Promise<boolean>;
  mkdir(hostDir: string, mode?: number): Promise<void>;
  chmod(hostPath: string, mode: number): Promise<void>;
  /** Create a file only if absent (O_EXCL); false when it already exists. */
  createExclusive(hostPath: string, content: string): Promise<boolean>;
  /** Renames a file that cannot be used (corrupt bookkeeping) to PATH.corrupt-TIME, so
   *  nothing overwrites it; returns the new host path. */
  keepAside(hostPath: string): Promise<string>;
}

export type { BackupManifest, BackupManifestEntry } from './backup-manifest.js';
export { readManifest };

export type FileType = 'file' | 'dir' | 'link' | 'socket' | 'fifo' | 'device' | 'other';

export class ReadOnlyViolation extends Error {
  constructor(op: string, p: string) {
    super(`internal: ${op} ${p} attempted in read-only mode (plan/check must not change the host)`);
  }
}

// Host files rooted at `root`; with readOnly every mutation throws, which is how `plan`
// proves it changes nothing.
export function hostFiles(root = '/', readOnly = false, hooks: ManifestHooks = {}): Files {
  // host paths are absolute: a relative one (an operator's argument that was never made
  // absolute) would silently be read from the root instead of the current directory
  const resolve = (p: string): string => {
    if (!p.startsWith('/')) throw new Error(`internal: "${p}" is not an absolute host path (resolve an operator's relative path against the current directory first)`);
    return path.join(root, path.resolve('/', p));
  };
  const guard = (op: string, p: string): void => {
    if (readOnly) throw new ReadOnlyViolation(op, p);
  };

  const files: Files = {
    root,
    readOnly,
    resolve,
    async read(p) {
      const b = await files.readBytes(p);
      return b === null ? null : b.toString('utf8');
    },
    async readBytes(p) {
      try {
        return await fs.readFile(resolve(p));
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async exists(p) {
      try {
        await fs.access(resolve(p));
        return true;
      } catch {
        return false;
      }
    },
    async stat(p) {
      try {
        const s = await fs.stat(resolve(p));
        return { mode: s.mode & 0o7777, size: s.size, uid: s.uid, gid: s.gid, mtimeMs: s.mtimeMs, isDir: s.isDirectory() };
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async list(dir) {
      try {
        return (await fs.readdir(resolve(dir))).sort();
      } catch (e) {
        if (isNotFound(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
        throw e;
      }
    },
    async listTyped(dir) {
      try {
        const entries = await fs.readdir(resolve(dir), { withFileTypes: true });
        return entries.map((d) => ({ name: d.name, type: fileType(d) })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      } catch (e) {
        if (isNotFound(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
        throw e;
      }
    },
    // Kernel files live in memory: a synchronous read takes microseconds, where an async
    // readFile costs several thread-pool round trips (a /proc/sys walk: ~400 ms against
    // ~20 ms). Chunks with a yield between keep /status answering meanwhile.
    readSmall: (ps) => inChunks(ps, (p) => readSmallSync(resolve(p))),
    readlinks: (ps) => inChunks(ps, (p) => attempt(() => readlinkSync(resolve(p)), null)),
    lists: (ds) => inChunks(ds, (d) => attempt(() => readdirSync(resolve(d)).sort(), [])),
    async lstat(p) {
      try {
        const s = await fs.lstat(resolve(p));
        return { type: fileType(s), mode: s.mode & 0o7777, size: s.size };
      } catch (e) {
        if (isNotFound(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
        throw e;
      }
    },
    async readlink(p) {
      try {
        return await fs.readlink(resolve(p));
      } catch {
        // gone (a process exited mid-walk), not a link, or not ours to read
        return null;
      }
    },
    async write(p, content, opts = {}) {
      guard('write', p);
      const data = typeof content === 'string' ? Buffer.from(content) : content;
      const before = await files.readBytes(p);
      // lstat: a symlink at the target is replaced, never written through, so it must not
      // lend its target's owner or mode to the new file
      const lst = before === null ? null : await fs.lstat(resolve(p));
      const st = lst && !lst.isSymbolicLink() ? lst : null;
      const wantMode = opts.mode ?? (st ? st.mode & 0o7777 : 0o644);
      if (before !== null && before.equals(data) && st && (st.mode & 0o7777) === wantMode) {
        return { changed: false };
      }
      const track = tracked(p, opts.backup);
      const backup = track ? await recordBefore(files, p, before, hooks) : undefined;
      await atomicWrite(resolve(p), data, wantMode, st ? { uid: st.uid, gid: st.gid } : undefined);
      if (track) await recordWritten(files, p, data, hooks);
      return { changed: true, backup };
    },
    async remove(p, opts = {}) {
      guard('remove', p);
      const before = await files.readBytes(p);
      if (before === null) return false;
      const track = tracked(p, opts.backup);
      if (track) await recordBefore(files, p, before, hooks);
      await fs.rm(resolve(p), { force: true });
      if (track) await recordWritten(files, p, null, hooks);
      return true;
    },
    async mkdir(dir, mode = 0o755) {
      guard('mkdir', dir);
      await fs.mkdir(resolve(dir), { recursive: true, mode });
      // a private directory (state, backups, the config, the runtime dir: they may hold
      // the token) is private even if something created it before us with another mode
      if ((mode & 0o077) === 0 && ((await fs.stat(resolve(dir))).mode & 0o777) !== mode) await fs.chmod(resolve(dir), mode);
    },
    async chmod(p, mode) {
      guard('chmod', p);
      // through a descriptor opened without following links: chmod(2) on a planted
      // symlink would change the mode of whatever it points at
      let fh;
      try {
        fh = await fs.open(resolve(p), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw Object.assign(new Error(`refusing to chmod ${resolve(p)}: it is a symbolic link`, { cause: e }), { code: 'ELOOP', path: resolve(p) });
        throw e;
      }
      try {
        await fh.chmod(mode);
      } finally {
        await fh.close();
      }
    },
    async keepAside(p) {
      guard('rename', p);
      const aside = `${p}.corrupt-${stamp()}`;
      await fs.rename(resolve(p), resolve(aside));
      return aside;
    },
    async createExclusive(p, content) {
      guard('create', p);
      await fs.mkdir(path.dirname(resolve(p)), { recursive: true });
      try {
        const fh = await fs.open(resolve(p), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
        await fh.writeFile(content);
        await fh.close();
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      }
    },
  };
  return files;
}

// Every edited file is backed up (backup-manifest.ts) unless the caller says otherwise;
// joinagent's own state needs no backup.
function tracked(p: string, backup: boolean | undefined): boolean {
  return backup !== false && !p.startsWith(paths.stateDir);
}

// Kernel-filesystem batches: synchronous calls in chunks of 200 with a yield between,
// so the event loop (and /status) is never held for more than a few milliseconds.
async function inChunks<T, R>(items: T[], f: (x: T) => R): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % 200 === 0) await new Promise((r) => setImmediate(r));
    out.push(f(items[i]));
  }
  return out;
}

// gone (a process exited mid-walk), not a link, or not ours to read
function attempt<R>(f: () => R, fallback: R): R {
  try {
    return f();
  } catch {
    return fallback;
  }
}

// null for a file that is gone, not ours to read, or has no read bit at all: procfs
// refuses such a file (vm.compact_memory) even to root, and a copy under a test root
// must read the same way.
function readSmallSync(file: string): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    return (fstatSync(fd).mode & 0o444) === 0 ? null : readFileSync(fd, 'utf8');
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileType(s: import('node:fs').Stats | import('node:fs').Dirent): FileType {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'link';
  if (s.isSocket()) return 'socket';
  if (s.isFIFO()) return 'fifo';
  if (s.isBlockDevice() || s.isCharacterDevice()) return 'device';
  return 'other';
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}
