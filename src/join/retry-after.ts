import { sleep } from '../engine/retry.js';
import { httpsRequest, type HttpsRequest, type HttpsResponse } from './https.js';

// A loaded kube-apiserver (API Priority and Fairness, max-inflight) answers 429 with a
// Retry-After header, and 503 with one while it is starting. client-go honours it: it
// waits the given seconds and tries again, up to 10 times. The agent does the same, but
// waits a random time between Retry-After and twice it, so a fleet of agents throttled in
// the same second does not come back in the same second (a retry storm).
export const MAX_RETRY_AFTER = 10;
// a server asking for more than this is treated as asking for this (one step attempt
// must not hang for minutes on one header)
const CAP_SECONDS = 30;
// and all the waits of one request together stay under this: ten capped, jittered waits
// would otherwise hold one request for up to ten minutes while the step looks hung
export const RETRY_AFTER_BUDGET_MS = 120_000;

export interface RetryAfterOptions {
  maxRetries?: number;
  random?: () => number;
  signal?: AbortSignal;
  /** Most time all waits of this request may add up to (default RETRY_AFTER_BUDGET_MS). */
  budgetMs?: number;
  /** Told before each wait: the attempt number (1-based), the wait and the status. */
  onRetry?: (attempt: number, delayMs: number, status: number) => void;
}

export async function requestHonouringRetryAfter(r: HttpsRequest, o: RetryAfterOptions = {}): Promise<HttpsResponse & { retries: number }> {
  const max = o.maxRetries ?? MAX_RETRY_AFTER;
  const budget = o.budgetMs ?? RETRY_AFTER_BUDGET_MS;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    const res = await httpsRequest(r);
    const seconds = retryAfterSeconds(res);
    if (seconds === undefined || attempt > max || o.signal?.aborted) return { ...res, retries: attempt - 1 };
    // past the budget the 429/503 itself is the answer: the caller reports the API server
    // as overloaded and the run's own retry takes over
    const delayMs = Math.min(jitteredDelayMs(seconds, o.random), budget - waited);
    if (delayMs <= 0) return { ...res, retries: attempt - 1 };
    o.onRetry?.(attempt, delayMs, res.status);
    await sleep(delayMs, o.signal);
    waited += delayMs;
  }
}

// Seconds to wait when the answer asks for it: 429 or 503 with a Retry-After of whole
// seconds (the form kube-apiserver sends; an HTTP date is read too). 429 without the
// header waits 1 s, as client-go does.
export function retryAfterSeconds(res: Pick<HttpsResponse, 'status' | 'headers'>, now = Date.now()): number | undefined {
  if (res.status !== 429 && res.status !== 503) return undefined;
  const raw = res.headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === '') return res.status === 429 ? 1 : undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - now) / 1000;
  if (Number.isNaN(n)) return res.status === 429 ? 1 : undefined;
  return Math.min(CAP_SECONDS, Math.max(1, Math.ceil(n)));
}

// Never earlier than asked; spread over [Retry-After, 2 x Retry-After].
export function jitteredDelayMs(seconds: number, random: () => number = Math.random): number {
  return Math.round(seconds * 1000 * (1 + random()));
}
