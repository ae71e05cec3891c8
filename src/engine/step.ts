import type { LoadedConfig } from '../config/types.js';
import type { HostFacts } from '../host/facts.js';
import type { Files } from '../host/files.js';
import type { Proc } from '../host/proc.js';

// What a check found that differs from the desired state; `plan` prints these. `undo`
// is how to put back what the change replaces, as the check saw it (commands; [] =
// nothing beyond restoring files): the change log keeps it for `reset --all`. Absent =
// the change cannot be undone, and reset says so.
export type Change =
  | { kind: 'file'; path: string; before: string | null; after: string | null }
  | { kind: 'value'; name: string; live: string; wanted: string; undo?: string[][] }
  | { kind: 'action'; description: string; argv?: string[]; undo?: string[][] };

export type CheckResult =
  | { state: 'ok'; message?: string }
  | { state: 'change'; changes: Change[]; message?: string }
  | { state: 'skip'; reason: string };

export type StepState = 'pending' | 'running' | 'ok' | 'changed' | 'failed' | 'skipped';
export type Phase = 'host' | 'runtime' | 'images' | 'join';

export interface StepContext {
  config: LoadedConfig;
  facts: HostFacts;
  files: Files;
  proc: Proc;
  /** true for plan / --dry-run: files and proc refuse to change anything. */
  dryRun: boolean;
  signal: AbortSignal;
  /** Progress inside a long step (image pull %, kubeadm phase); shows in /status. */
  progress(message: string): void;
  warn(message: string, hint?: string): void;
  /** Values a step publishes for /status (node IP, node Ready, podCIDR ...). */
  publish(key: string, value: unknown): void;
  /** Values published by earlier steps in this run. */
  published: Record<string, unknown>;
}

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

// A step is data: a read-only check and an apply that changes only what check found.
// The engine owns timing, state, retries, verification and events.
export interface Step {
  id: string;
  title: string;
  phase: Phase;
  /** Ids that must have finished (ok/changed/skipped) first. */
  after?: string[];
  /** Steps sharing a resource never run at the same time (e.g. the package manager). */
  resources?: string[];
  /** A failed optional step is reported but does not stop the run (default required). */
  optional?: boolean;
  retry?: RetryPolicy;
  check(ctx: StepContext): Promise<CheckResult>;
  apply(ctx: StepContext, changes: Change[]): Promise<void>;
  /** Some steps (join) verify differently than re-checking; default: check() must be ok. */
  verify?(ctx: StepContext): Promise<CheckResult>;
}

// An error a step raises on purpose: what went wrong, and what the operator does next.
export class StepError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StepError';
  }
}
