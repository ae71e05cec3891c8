import type { Files } from '../../host/files.js';
import type { Proc } from '../../host/proc.js';

// A reset is planned first (read-only), then shown, confirmed and carried out; --dry-run
// stops after showing. Each action says what it will do in the operator's words.
export interface ResetAction {
  title: string;
  /** The one command the action runs, when it is one (so the same undo runs once). */
  command?: string;
  /** Does the work; returns a note for the operator (e.g. "kubeadm is not installed"). */
  run(): Promise<string | void>;
}

export interface ResetPlan {
  actions: ResetAction[];
  /** Things reset deliberately leaves alone, and why. */
  warnings: string[];
}

export interface ResetContext {
  files: Files;
  proc: Proc;
}

export interface ResetOptions {
  all: boolean;
  purgePackages: boolean;
}
