import path from 'node:path';
import { atomicWrite } from './atomic-write.js';
import type { Files } from './files.js';
import { paths } from './paths.js';
import { holdsSecret } from './redact.js';

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
  /** The content held a bootstrap token: joinagent kept no copy of it. */
  withheld?: boolean;
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
    await privateDirs(files);
    const manifest = await manifestForUpdate(files, hooks);
    const known = manifest[p];
    const entry: BackupManifestEntry = known ?? { created: before === null, backups: [] };
    let backup: string | undefined;
    if (before !== null && holdsSecret(before)) {
      // no copy of a secret outlives its use: what cannot be restored is said at reset
      if (entry.withheld) return undefined;
      entry.withheld = true;
    } else if (before !== null) {
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
    await privateDirs(files);
    const manifest = await manifestForUpdate(files, hooks);
    const entry: BackupManifestEntry = manifest[p] ?? { created: false, backups: [] };
    if (after !== null && holdsSecret(after)) {
      // what joinagent wrote held a secret: no copy, so reset decides by markers
      if (entry.written === undefined && entry.withheld) return;
      const old = entry.written;
      delete entry.written;
      entry.withheld = true;
      manifest[p] = entry;
      await writeManifest(files, manifest);
      if (old) await files.remove(old, { backup: false });
      return;
    }
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

// Copies in the backup directory that hold a bootstrap token (left by an older agent, or
// an edit of a file that held one), for the join cleanup and uninstall --purge.
export async function secretCopies(files: Files): Promise<string[]> {
  const out: string[] = [];
  for (const e of await files.listTyped(paths.backupDir)) {
    if (e.type !== 'file') continue;
    const p = path.posix.join(paths.backupDir, e.name);
    const b = await files.readBytes(p);
    if (b && holdsSecret(b)) out.push(p);
  }
  return out;
}

// Removes those copies and every mention of them in the manifest (an entry whose original
// is gone says so at reset: "joinagent's copy of the original is missing").
export function dropCopies(files: Files, copies: string[], hooks: ManifestHooks = {}): Promise<void> {
  return queued(files, async () => {
    const gone = new Set(copies);
    const manifest = await manifestForUpdate(files, hooks);
    gone.delete(paths.backupManifest);
    for (const [p, e] of Object.entries(manifest)) {
      const hit = e.backups.some((b) => gone.has(b)) || (e.written ? gone.has(e.written) : false);
      if (!hit) continue;
      // joinagent's own config is not a host file reset restores: its record just goes
      if (p === paths.config) {
        delete manifest[p];
        continue;
      }
      e.backups = e.backups.filter((b) => !gone.has(b));
      if (e.written && gone.has(e.written)) delete e.written;
      e.withheld = true;
    }
    for (const c of gone) await files.remove(c, { backup: false });
    if (await files.exists(paths.backupManifest)) await writeManifest(files, manifest);
  });
}

async function privateDirs(files: Files): Promise<void> {
  await files.mkdir(paths.stateDir, 0o700);
  await files.mkdir(paths.backupDir, 0o700);
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
