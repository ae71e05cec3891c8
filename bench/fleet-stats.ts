import type { LoggedRequest } from '../test/fixtures/controlplane/load-shedding.js';
import { round } from './lib.js';

// Pure summaries of a fleet join: who loaded the control plane, how the requests and the
// retries were spread in time, and the join-time distribution.

/** Nearest-rank percentile of a sample. */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// The agent says who it is; kubeadm's and the kubelet's stand-ins are curl, told apart
// by what they ask: the kubelet does the TLS bootstrap (its CSR), registers its Node and
// posts its status; kubeadm does discovery, the Node pre-check and the kubelet-config read.
export function sender(r: Pick<LoggedRequest, 'userAgent' | 'method' | 'path'>): 'agent' | 'kubelet' | 'kubeadm' | 'other' {
  if (r.userAgent.startsWith('joinagent')) return 'agent';
  if (!r.userAgent.startsWith('curl/')) return 'other';
  if ((r.method === 'POST' && r.path === '/api/v1/nodes') || (r.method === 'PATCH' && r.path.endsWith('/status')) || r.path.startsWith('/apis/certificates.k8s.io/')) return 'kubelet';
  return 'kubeadm';
}

export interface LoadSummary {
  requests: number;
  windowSeconds: number;
  meanPerSecond: number;
  peakPerSecond: number;
  /** the busiest 100 ms against the mean 100 ms: a synchronized retry wave shows as a high ratio */
  peak100msOverMean: number;
  bySender: Record<string, { requests: number; throttled: number }>;
  /** requests in each 500 ms of the window, and how many of them were answered 429 */
  perHalfSecond: number[];
  throttledPerHalfSecond: number[];
}

export function summarizeLoad(log: LoggedRequest[], fromMs: number, toMs: number): LoadSummary {
  const w = log.filter((r) => r.at >= fromMs && r.at <= toMs);
  const seconds = Math.max(0.001, (toMs - fromMs) / 1000);
  const bucket = (size: number, pick: (r: LoggedRequest) => boolean): number[] => {
    const out = new Array<number>(Math.ceil((toMs - fromMs) / size) || 1).fill(0);
    for (const r of w) if (pick(r)) out[Math.min(out.length - 1, Math.floor((r.at - fromMs) / size))]++;
    return out;
  };
  const perSecond = bucket(1000, () => true);
  const per100 = bucket(100, () => true);
  const mean100 = w.length / per100.length;
  const bySender: LoadSummary['bySender'] = {};
  for (const r of w) {
    const s = (bySender[sender(r)] ??= { requests: 0, throttled: 0 });
    s.requests++;
    if (r.code === 429) s.throttled++;
  }
  return {
    requests: w.length,
    windowSeconds: round(seconds, 1),
    meanPerSecond: round(w.length / seconds, 1),
    peakPerSecond: Math.max(...perSecond),
    peak100msOverMean: round(Math.max(...per100) / Math.max(mean100, 1e-9), 1),
    bySender,
    perHalfSecond: bucket(500, () => true),
    throttledPerHalfSecond: bucket(500, (r) => r.code === 429),
  };
}

// The agent's requests by what they asked (node names folded, query kept): which of its
// reads a loaded control plane sees most, and how many of each were answered 429.
export function agentRequestsByPath(log: LoggedRequest[], fromMs: number, toMs: number): Record<string, { requests: number; throttled: number }> {
  const out: Record<string, { requests: number; throttled: number }> = {};
  for (const r of log) {
    if (r.at < fromMs || r.at > toMs || sender(r) !== 'agent') continue;
    const key = `${r.method} ${r.path.replace(/worker-\d+/g, 'NODE').replace(/kube-proxy-[a-z0-9]+/g, 'kube-proxy-POD')}`;
    const s = (out[key] ??= { requests: 0, throttled: 0 });
    s.requests++;
    if (r.code === 429) s.throttled++;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1].requests - a[1].requests));
}

// Step retries per step, from the agent's JSON log.
export function stepRetriesByStep(out: string): Record<string, number> {
  const by: Record<string, number> = {};
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as LogLine;
    if (e.event === 'step-retry' && e.step) by[e.step] = (by[e.step] ?? 0) + 1;
  }
  return by;
}

interface LogLine {
  time?: string;
  event?: string;
  step?: string;
  msg?: string;
  delayMs?: number;
  durationMs?: number;
}

// The agent's own retries from its JSON log: waits a 429's Retry-After asked for
// (discovery's progress lines) and step retries; each as the time it was due (ms since
// `t0`), so the spread of the fleet's retries can be seen.
export function agentRetries(out: string, t0: number): { retryAfterWaits: number; stepRetries: number; dueAtMs: number[] } {
  const due: number[] = [];
  let waits = 0;
  let steps = 0;
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as LogLine;
    const at = Date.parse(e.time ?? '') - t0;
    if (e.event === 'step-progress' && /Retry-After/.test(e.msg ?? '')) {
      waits++;
      const s = Number(/trying again in ([\d.]+) s/.exec(e.msg ?? '')?.[1] ?? NaN);
      if (!Number.isNaN(s)) due.push(Math.round(at + s * 1000));
    } else if (e.event === 'step-retry') {
      steps++;
      due.push(Math.round(at + (e.delayMs ?? 0)));
    }
  }
  return { retryAfterWaits: waits, stepRetries: steps, dueAtMs: due };
}

/** How many of `times` (ms) fall in the busiest `windowMs`: 1 per retry means spread out. */
export function busiestWindow(times: number[], windowMs: number): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i] - s[j] > windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

// Where one node's join time went: from the agent's start to discovery (its start-up and
// the prepare steps' checks: local CPU), and from discovery to the end (the API server,
// kubeadm, the kubelet, the wait for Ready).
export function phaseSplit(out: string, t0: number, endMs: number): { localS: number; apiS: number } {
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as LogLine;
    // step-start is a debug line; the step-end line carries the step's duration
    if (e.event === 'step-end' && e.step === 'discovery') {
      const at = Date.parse(e.time ?? '') - (e.durationMs ?? 0) - t0;
      return { localS: round(at / 1000), apiS: round((endMs - at) / 1000) };
    }
  }
  return { localS: NaN, apiS: NaN };
}
