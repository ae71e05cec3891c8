import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { redactDeep } from '../host/redact.js';
import { describeChange, type StepOutcome } from './engine.js';
import type { Change } from './step.js';

// What survives a restart: the last run per mode and each step's last outcome, so a
// restarted agent (or `joinagent status` after a reboot) reports what happened before.
export interface PersistedState {
  version: 1;
  updatedAt: string;
  lastRun?: { mode: string; startedAt: string; endedAt?: string; ok?: boolean; failedStep?: string };
  steps: Record<string, StepOutcome & { at: string }>;
  published: Record<string, unknown>;
  joinedAt?: string;
  /** Append-only record of what steps changed (steps[] keeps only the last outcome, which
   * is `ok` after a re-run): reset --all reads it to know what to revert. undo[i] is how
   * to undo changes[i] (commands; [] = files only; null = cannot be undone). */
  changeLog?: ChangeRecord[];
}

const CHANGE_LOG_LIMIT = 500;

export interface ChangeRecord {
  step: string;
  at: string;
  changes: string[];
  /** Absent in records of agents before undo was recorded. */
  undo?: (string[][] | null)[];
}

export function recordChange(state: PersistedState, step: string, changes: Change[]): void {
  state.changeLog ??= [];
  state.changeLog.push({ step, at: new Date().toISOString(), changes: changes.map(describeChange), undo: changes.map((c) => (c.kind === 'file' ? [] : (c.undo ?? null))) });
  if (state.changeLog.length > CHANGE_LOG_LIMIT) state.changeLog.splice(0, state.changeLog.length - CHANGE_LOG_LIMIT);
}

export function emptyState(): PersistedState {
  return { version: 1, updatedAt: new Date().toISOString(), steps: {}, published: {} };
}

// A state file that cannot be used is not worth failing the join for, but it is the
// record of earlier runs (and of what reset --all has to undo): it is kept aside as
// state.json.corrupt-TIME and the caller is told, never silently replaced.
export async function loadState(files: Files, warn?: (message: string, hint?: string) => void, repair = !files.readOnly): Promise<PersistedState> {
  const raw = await files.read(paths.state);
  if (raw === null) return emptyState();
  const s = parseState(raw);
  if (typeof s === 'object') return { ...emptyState(), ...s };
  const aside = repair ? await files.keepAside(paths.state) : undefined;
  warn?.(`${paths.state} ${s}: ${aside ? `kept as ${aside}` : 'left as it is'}; starting with an empty state`, `the record of earlier runs and of the changes they made is in ${aside ?? paths.state}; check the disk holding ${paths.stateDir}`);
  return emptyState();
}

function parseState(raw: string): PersistedState | string {
  let s: PersistedState;
  try {
    s = JSON.parse(raw) as PersistedState;
  } catch {
    return 'is not valid JSON';
  }
  if (!s || typeof s !== 'object' || typeof s.steps !== 'object' || s.steps === null) return 'is not a joinagent state file';
  if (s.version !== 1) return `has version ${JSON.stringify(s.version)}, not 1 (written by another joinagent version?)`;
  return s;
}

export async function saveState(files: Files, state: PersistedState): Promise<void> {
  if (files.readOnly) return;
  state.updatedAt = new Date().toISOString();
  await files.mkdir(paths.stateDir, 0o700);
  await files.write(paths.state, JSON.stringify(redactDeep(state), null, 2) + '\n', { mode: 0o600, backup: false });
}
