import { constants, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { crypto } from './crypto.js';

// Part of the files layer (files.ts): the one way joinagent puts bytes into a file.
// temp file in the same directory + fsync + rename: a crash leaves either the old or the
// new file, never a truncated one; then fsync the directory so the rename is durable.
export async function atomicWrite(target: string, data: Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  await removeStaleTemps(dir, path.basename(target));
  let tmp = '';
  try {
    const fh = await createTemp(dir, path.basename(target), mode);
    tmp = fh.path;
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      if (owner && process.getuid?.() === 0) await fh.chown(owner.uid, owner.gid);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, target);
  } catch (e) {
    // a full disk fails half-way through the temp file: never leave that partial copy behind
    if (tmp) await fs.rm(tmp, { force: true });
    throw writeError(e, target);
  }
  const dh = await fs.open(dir, 'r').catch(() => null);
  if (dh) {
    await dh.sync().catch(() => undefined);
    await dh.close();
  }
}

// A SIGKILL between the temp file's creation and its rename leaves the temp file behind;
// the next write of the same target removes those whose writer is gone (the pid in the name
// is not running), never one a live agent is still writing.
async function removeStaleTemps(dir: string, base: string): Promise<void> {
  const prefix = `.${base}.joinagent-`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    const pid = n.startsWith(prefix) ? /^(\d+)-\d+$/.exec(n.slice(prefix.length))?.[1] : undefined;
    if (pid && Number(pid) !== process.pid && !existsSync(`/proc/${pid}`)) await fs.rm(path.join(dir, n), { force: true });
  }
}

// The temporary file of an atomic write, created only if nothing is at its name (O_EXCL,
// which also refuses a symlink, and O_NOFOLLOW for good measure) under a name nobody can
// predict: in a directory others can write to (snapshot --out /tmp/...), a symlink
// planted at a guessable name would otherwise redirect the write (and the chmod) to any
// file. The pid stays in the name so a leftover can be traced to its writer.
async function createTemp(dir: string, base: string, mode: number): Promise<import('node:fs/promises').FileHandle & { path: string }> {
  for (let i = 0; ; i++) {
    const name = path.join(dir, `.${base}.joinagent-${process.pid}-${crypto().randomBytes(6).readUIntBE(0, 6)}`);
    try {
      const fh = await fs.open(name, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
      return Object.assign(fh, { path: name });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 10) throw e;
    }
  }
}

// Node's ENOSPC on a file handle names no file ("no space left on device, write"): name
// the file joinagent was writing, keeping the errno code for callers that classify it.
function writeError(e: unknown, target: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!err?.code || err.message.includes(target)) return e;
  return Object.assign(new Error(`${err.message.replace(/, (write|open|rename|fsync)$/, '')}: writing ${target}`, { cause: e }), { code: err.code, path: target });
}

