import type { Change, CheckResult, Phase, StepState } from './step.js';

// One event stream feeds logs, /status and metrics; each kind has one formatter in the
// logger, so adding a kind is a compile error until it is handled everywhere.
export type AgentEvent =
  | { type: 'run-start'; mode: RunMode; steps: { id: string; title: string; phase: Phase }[] }
  | { type: 'step-start'; id: string; attempt: number }
  | { type: 'step-checked'; id: string; result: CheckResult }
  | { type: 'step-progress'; id: string; message: string }
  | { type: 'step-retry'; id: string; attempt: number; delayMs: number; error: string; hint?: string }
  | { type: 'step-end'; id: string; state: StepState; durationMs: number; attempts: number; message?: string; hint?: string; changes: Change[] }
  | { type: 'run-end'; mode: RunMode; ok: boolean; durationMs: number; failedStep?: string }
  | { type: 'warning'; message: string; hint?: string; step?: string }
  | { type: 'published'; key: string; value: unknown }
  | { type: 'drift'; id: string; changes: Change[]; repaired: boolean; error?: string; hint?: string }
  | { type: 'scheduled'; action: 'retry' | 'reconcile'; at: string; delayMs: number; attempt?: number }
  | { type: 'config-reload'; ok: boolean; file: string; problems: string[] };

export type RunMode = 'run' | 'plan' | 'prepare' | 'reconcile';

export type Listener = (e: AgentEvent) => void;

export class EventBus {
  private listeners: Listener[] = [];
  on(l: Listener): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }
  emit(e: AgentEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a broken listener (e.g. a closed log pipe) must not stop the host work
      }
    }
  }
}
