import path from 'node:path';
import { atomicWrite } from './atomic-write.js';
import type { Files } from './files.js';
import { paths } from './paths.js';

// Part of the files layer (files.ts): the record of every file joinagent edited, so
// `reset --all` can restore what the host had before joinagent.
export interface BackupManifestEntry {
  /** The file as it was before joinagent first touched it; absent = joinagent created it. */
  original?: string;
  created: boolean;
  backups: string[];
  /** A copy of what joinagent last wrote (null: its last action removed the file), so
   * `reset --all` can tell its own edits from later foreign ones (3-way revert). */
  written?: string | null;
}
export type BackupManifest = Record<string, BackupManifestEntry>;

export interface ManifestHooks {
  /** Where a problem with the bookkeeping is reported (the agent: a /status warning). */
  warn?: (message: string, hint?: string) => void;
}

// A write is recorded in two halves around it, so that a crash at any point never leaves
// the manifest describing a write that did not happen:
//  1. recordBefore: the previous content is copied to a new timestamped file and the
//     manifest learns of that copy (and, on the first edit, that it is the original);
//  2. the file itself is written;
//  3. recordWritten: the copy of what joinagent wrote, then the manifest entry naming it.
// Read-modify-write of the manifest is queued per root, so two steps editing files at the
// same time cannot drop each other's entries.
export function recordBefore(files: Files, p: string, before: Buffer | null, hooks: ManifestHooks): Promise<string | undefined> {
  return queued(files, async () => {
    const manifest = await manifestForUpdate(files, hooks);
    const known = manifest[p];
    const entry: BackupManifestEntry = known ?? { created: before === null, backups: [] };
    let backup: string | undefined;
    if (before !== null) {
      const name = `${flatten(p)}.${stamp()}`;
      backup = path.posix.join(paths.backupDir, name);
      // two edits within one millisecond must not overwrite the first copy (the original)
      for (let i = 1; await files.exists(backup); i++) backup = path.posix.join(paths.backupDir, `${name}-${i}`);
      await atomicWrite(files.resolve(backup), before, 0o600);
      entry.backups.push(backup);
      if (!entry.created && entry.original === undefined) entry.original = backup;
    }
    if (known && before === null) return undefined;
    manifest[p] = entry;
    await writeManifest(files, manifest);
    return backup;
  });
}

export function recordWritten(files: Files, p: string, after: Buffer | null, hooks: ManifestHooks): Promise<void> {
  return queued(files, async () => {
    const manifest = await manifestForUpdate(files, hooks);
    const entry: BackupManifestEntry = manifest[p] ?? { created: false, backups: [] };
    const copy = after === null ? null : path.posix.join(paths.backupDir, `${flatten(p)}.written`);
    if (copy !== null) await atomicWrite(files.resolve(copy), after!, 0o600);
    if (manifest[p] && entry.written === copy) return;
    entry.written = copy;
    manifest[p] = entry;
    await writeManifest(files, manifest);
  });
}

// The manifest as recorded. One that cannot be parsed is not an empty record: the
// entries are rebuilt from the copies in the backup directory (the names say which file
// and when), and the caller is told; nothing is changed here.
export async function readManifest(files: Files, warn?: (message: string) => void): Promise<BackupManifest> {
  const raw = await files.read(paths.backupManifest);
  if (raw === null) return {};
  const parsed = parseManifest(raw);
  if (parsed) return parsed;
  warn?.(`backup manifest ${paths.backupManifest} is not valid JSON: rebuilt from the backup copies in ${paths.backupDir} for this plan${CAVEAT} (a command that writes keeps the corrupt file aside)`);
  return rebuildManifest(await files.list(paths.backupDir));
}

const CAVEAT = '; a file joinagent created and then changed is taken for an edited one, whose first version reset --all would restore';

// For an update: a corrupt manifest is moved aside (never overwritten: it may be the
// only record of some original) and replaced by the rebuilt one, with a warning.
async function manifestForUpdate(files: Files, hooks: ManifestHooks): Promise<BackupManifest> {
  const raw = await files.read(paths.backupManifest);
  if (raw === null) return {};
  const parsed = parseManifest(raw);
  if (parsed) return parsed;
  const aside = await files.keepAside(paths.backupManifest);
  const rebuilt = rebuildManifest(await files.list(paths.backupDir));
  await writeManifest(files, rebuilt);
  hooks.warn?.(
    `backup manifest ${paths.backupManifest} is not valid JSON: kept as ${aside}; rebuilt from the backup copies in ${paths.backupDir}${CAVEAT}`,
    `compare ${aside} with the rebuilt manifest before running reset --all; check the disk holding ${paths.stateDir}`,
  );
  return rebuilt;
}

function parseManifest(raw: string): BackupManifest | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const ok = Object.values(v).every((e) => e && typeof e === 'object' && Array.isArray((e as BackupManifestEntry).backups));
  return ok ? (v as BackupManifest) : undefined;
}

const STAMP = /^(.+)\.(\d{4}-\d{2}-\d{2}T\d{9}Z)(?:-(\d+))?$/;

// The manifest the backup directory implies: per file, its timestamped copies in order
// (the first is the original) and its .written copy. Copies from before the last
// reset --all (which archived the manifest as manifest.reset-TIME.json) are history.
export function rebuildManifest(names: string[]): BackupManifest {
  const lastReset = names.map((n) => /^manifest\.reset-(.+)\.json$/.exec(n)?.[1]).filter((x): x is string => Boolean(x)).sort().pop() ?? '';
  const copies = new Map<string, { stamp: string; i: number; name: string }[]>();
  const written = new Map<string, string>();
  for (const n of names) {
    const w = /^(.+)\.written$/.exec(n);
    if (w) {
      written.set(unflatten(w[1]), path.posix.join(paths.backupDir, n));
      continue;
    }
    const m = STAMP.exec(n);
    if (!m || m[2] <= lastReset) continue;
    const p = unflatten(m[1]);
    copies.set(p, [...(copies.get(p) ?? []), { stamp: m[2], i: Number(m[3] ?? 0), name: path.posix.join(paths.backupDir, n) }]);
  }
  const out: BackupManifest = {};
  for (const p of new Set([...copies.keys(), ...written.keys()])) {
    const list = (copies.get(p) ?? []).sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.i - b.i)).map((c) => c.name);
    out[p] = list.length ? { created: false, original: list[0], backups: list } : { created: true, backups: [] };
    if (written.has(p)) out[p].written = written.get(p);
  }
  return out;
}

async function writeManifest(files: Files, manifest: BackupManifest): Promise<void> {
  await atomicWrite(files.resolve(paths.backupManifest), Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), 0o600);
}

const queues = new Map<string, Promise<unknown>>();

function queued<T>(files: Files, f: () => Promise<T>): Promise<T> {
  const mine = (queues.get(files.root) ?? Promise.resolve()).then(f);
  queues.set(files.root, mine.catch(() => undefined));
  return mine;
}

const flatten = (p: string): string => p.replace(/^\//, '').replace(/\//g, '__');
const unflatten = (f: string): string => '/' + f.replace(/__/g, '/');
export const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '');
