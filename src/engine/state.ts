import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { redactDeep } from '../host/redact.js';
import type { StepOutcome } from './engine.js';

// What survives a restart: the last run per mode and each step's last outcome, so a
// restarted agent (or `joinagent status` after a reboot) reports what happened before.
export interface PersistedState {
  version: 1;
  updatedAt: string;
  lastRun?: { mode: string; startedAt: string; endedAt?: string; ok?: boolean; failedStep?: string };
  steps: Record<string, StepOutcome & { at: string }>;
  published: Record<string, unknown>;
  joinedAt?: string;
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
