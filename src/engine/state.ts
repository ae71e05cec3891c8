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
   * is `ok` after a re-run): reset --all reads it to know what to revert (firewall, packages). */
  changeLog?: { step: string; at: string; changes: string[] }[];
}

const CHANGE_LOG_LIMIT = 500;

export function recordChange(state: PersistedState, step: string, changes: Change[]): void {
  state.changeLog ??= [];
  state.changeLog.push({ step, at: new Date().toISOString(), changes: changes.map(describeChange) });
  if (state.changeLog.length > CHANGE_LOG_LIMIT) state.changeLog.splice(0, state.changeLog.length - CHANGE_LOG_LIMIT);
}

export function emptyState(): PersistedState {
  return { version: 1, updatedAt: new Date().toISOString(), steps: {}, published: {} };
}

export async function loadState(files: Files): Promise<PersistedState> {
  const raw = await files.read(paths.state);
  if (!raw) return emptyState();
  try {
    const s = JSON.parse(raw) as PersistedState;
    if (s.version !== 1 || typeof s.steps !== 'object') return emptyState();
    return { ...emptyState(), ...s };
  } catch {
    // a state file we cannot parse is not worth failing the join for
    return emptyState();
  }
}

export async function saveState(files: Files, state: PersistedState): Promise<void> {
  if (files.readOnly) return;
  state.updatedAt = new Date().toISOString();
  await files.mkdir(paths.stateDir, 0o700);
  await files.write(paths.state, JSON.stringify(redactDeep(state), null, 2) + '\n', { mode: 0o600, backup: false });
}
