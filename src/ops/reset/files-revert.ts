import { readManifest, type BackupManifestEntry, type Files } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import { revertText } from './revert-text.js';
import type { ResetAction, ResetContext, ResetPlan } from './types.js';

// One decision per file in joinagent's backup manifest (written by files.ts on every
// edit): restore the original, remove what joinagent created, or undo only joinagent's
// edits when someone else edited the file afterwards. What cannot be undone safely is
// kept and named in a warning, with the path of the original copy.
export async function fileRevertPlan(ctx: ResetContext): Promise<ResetPlan> {
  const plan: ResetPlan = { actions: [], warnings: [] };
  const manifest = await readManifest(ctx.files, (w) => plan.warnings.push(w));
  for (const [p, entry] of Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b))) {
    if (p.startsWith(paths.stateDir)) continue;
    const d = await decide(ctx.files, p, entry);
    if (d.action) plan.actions.push(d.action);
    if (d.warning) plan.warnings.push(d.warning);
  }
  return plan;
}

interface Decision {
  action?: ResetAction;
  warning?: string;
}

async function decide(files: Files, p: string, e: BackupManifestEntry): Promise<Decision> {
  const original = e.created ? null : e.original ? await files.readBytes(e.original) : undefined;
  if (original === undefined && e.withheld) return { warning: `${p}: held a bootstrap token, so joinagent kept no copy of its original: left as it is` };
  if (original === undefined) return { warning: `${p}: joinagent's copy of the original (${e.original ?? 'not recorded'}) is missing: left as it is` };
  const current = await files.readBytes(p);
  const written = e.written === undefined ? undefined : e.written === null ? null : ((await files.readBytes(e.written)) ?? undefined);
  if (same(current, original)) return {};
  const restore = (why: string): Decision => ({
    action:
      original === null
        ? { title: `remove ${p} (${why})`, run: async () => void (await files.remove(p)) }
        : { title: `restore ${p} (${why})`, run: async () => void (await files.write(p, original)) },
  });
  if (written !== undefined && same(current, written)) return restore(original === null ? 'joinagent created it' : 'unchanged since joinagent wrote it: back to the original, byte for byte');
  const keep = e.original ? `; the original is at ${e.original}` : '';
  if (original === null) {
    // no record of what joinagent wrote (an older manifest): joinagent created the file, so it goes
    if (written === undefined) return restore('joinagent created it');
    return { warning: `${p}: joinagent created it, but it was changed afterwards: kept (remove it yourself if nothing needs it)` };
  }
  if (current === null) return { warning: `${p}: removed by someone else after joinagent edited it: left absent${keep}` };
  const r = revertText(p, original.toString('utf8'), written === null ? undefined : written?.toString('utf8'), current.toString('utf8'));
  if (!r) return { warning: `${p}: changed since joinagent's last write and no joinagent edit left to undo: kept${keep}` };
  const how = r.method === 'exact' ? 'back to the original' : `undo joinagent's edits, keep later changes (${r.method === 'markers' ? 'by its markers' : '3-way'})`;
  return { action: { title: `restore ${p} (${how})`, run: async () => void (await files.write(p, r.content)) } };
}

function same(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

// After a full revert the manifest describes a host that no longer exists: it is kept
// as a dated record, and the next preparation starts a fresh one.
export function archiveManifestAction(files: Files): ResetAction {
  return {
    title: `archive joinagent's backup manifest (${paths.backupManifest} -> manifest.reset-TIME.json; backups stay)`,
    async run() {
      const text = await files.read(paths.backupManifest);
      if (text === null) return;
      await files.write(`${paths.backupDir}/manifest.reset-${new Date().toISOString().replace(/[:.]/g, '')}.json`, text, { mode: 0o600, backup: false });
      await files.remove(paths.backupManifest, { backup: false });
    },
  };
}
