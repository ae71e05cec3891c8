import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import type { ActionId } from './actions.js';

// What joinagent knows about the node's Kubernetes version, on disk so that it survives
// a SIGKILL: `version` is what the node runs (set once joined, moved when an upgrade
// finishes); `upgrade` is present only while one is under way, with the actions done.
// Each write replaces the file atomically (files.write), so a crash leaves the old or
// the new record, never half of one.
export interface UpgradeRecord {
  version: string;
  upgrade?: UpgradeProgress;
  /** The last upgrade that finished, as /status showed it when it did. */
  last?: { from: string; to: string; finishedAt: string; [key: string]: unknown };
}

export interface UpgradeProgress {
  from: string;
  to: string;
  startedAt: string;
  done: ActionId[];
  /** The action that failed last, and why (cleared when it succeeds). */
  stoppedAt?: ActionId;
  error?: string;
}

export async function readRecord(files: Files): Promise<UpgradeRecord | undefined> {
  const text = await files.read(paths.upgradeRecord);
  if (text === null) return undefined;
  try {
    const r = JSON.parse(text) as UpgradeRecord;
    return typeof r.version === 'string' ? r : undefined;
  } catch {
    // unreadable = unknown: the installed kubelet package answers instead (node-version.ts)
    return undefined;
  }
}

export async function writeRecord(files: Files, r: UpgradeRecord): Promise<void> {
  await files.mkdir(paths.stateDir, 0o700);
  await files.write(paths.upgradeRecord, JSON.stringify(r, null, 2) + '\n', { mode: 0o644, backup: false });
}
