import type { RetryPolicy } from './step.js';

// Capped exponential backoff with full jitter (AWS style): spreads a fleet of agents
// retrying against one control plane instead of having them hit it in lock-step.
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = backoffCap(policy, attempt);
  return Math.round(cap / 2 + random() * (cap / 2));
}

// The longest wait after `attempt` (1-based): doubling from baseMs, capped at maxMs.
function backoffCap(policy: Omit<RetryPolicy, 'attempts'>, attempt: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
}

// Attempts for a step that waits for something (a Node turning Ready) about `waitMs` in
// all: with full jitter a wait averages 3/4 of its cap, so counting each as its whole cap
// (waitMs / maxMs) waited about 3/4 of what the operator configured.
export function attemptsToWait(waitMs: number, policy: Omit<RetryPolicy, 'attempts'>): number {
  let attempts = 1;
  for (let waited = 0; waited < waitMs; attempts++) waited += 0.75 * backoffCap(policy, attempts);
  return attempts;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
