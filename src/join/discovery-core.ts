import { joinHostPort } from '../config/formats.js';
import { redact } from '../host/redact.js';
import { NetError, tcpProbe, type HttpsRequest, type HttpsResponse } from './https.js';
import { requestHonouringRetryAfter } from './retry-after.js';
import { netDiagnosis } from './netdiag.js';
import { versionSkew } from './version.js';

// What token and file discovery share: the check list with its first failure, and the
// probe of an API server (TCP, TLS, /healthz, /version skew, clock) done read-only and
// step by step, so the first thing that fails is named.
export type CheckLevel = 'pass' | 'warn' | 'fail' | 'skip';
export interface DiscoveryCheck {
  name: string;
  level: CheckLevel;
  message: string;
  hint?: string;
}

export interface DiscoveryResult {
  ok: boolean;
  checks: DiscoveryCheck[];
  failure?: DiscoveryCheck;
  retryable: boolean;
  /** "[fd00::1]:6443": where the API server was reached. */
  apiServer?: string;
  serverVersion?: string;
  clusterCaPins?: string[];
  /** The cluster CA as discovery trusts it (cluster-info's, pinned; or the discovery file's). */
  caPem?: string;
  clockSkewMs?: number;
  /** Requests sent again because the API server answered 429/503 with Retry-After. */
  throttledRetries?: number;
}

const CLOCK_WARN_MS = 10_000;
// Kubernetes' CSR signer backdates certificates by 5 minutes; beyond that a node's
// clock makes fresh certificates "not yet valid" (or expired) in x509 checks.
const CLOCK_FAIL_MS = 5 * 60_000;

class Stop extends Error {
  constructor(readonly retryable: boolean) {
    super('stop');
  }
}

export class Checks {
  readonly checks: DiscoveryCheck[] = [];
  add(name: string, level: CheckLevel, message: string, hint?: string): void {
    this.checks.push({ name, level, message: redact(message), hint: hint && redact(hint) });
  }
  fail(name: string, message: string, hint: string | undefined, retryable: boolean): never {
    this.add(name, 'fail', message, hint);
    throw new Stop(retryable);
  }
  // A network failure as the one sentence and next action netdiag gives it.
  netFail(name: string, e: unknown, host: string, port: number): never {
    if (!(e instanceof NetError)) throw e;
    const d = netDiagnosis(e, host, port);
    return this.fail(name, d.message, d.hint, d.retryable);
  }
}

// Runs the checks; a fail() ends them and becomes the result's failure.
export async function runChecks(fn: (c: Checks, out: DiscoveryResult) => Promise<void>): Promise<DiscoveryResult> {
  const c = new Checks();
  const out: DiscoveryResult = { ok: false, checks: c.checks, retryable: false };
  try {
    await fn(c, out);
    out.ok = true;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    out.retryable = e.retryable;
    out.failure = c.checks[c.checks.length - 1];
  }
  return out;
}

export interface ProbeOptions {
  kubeletVersion: string;
  /** PEM CA to verify TLS with; undefined = token discovery's first, unverified contact. */
  ca?: string;
  /** What verified TLS failing means, e.g. "the server's certificate is not signed by the CA in FILE". */
  tlsHint?: string;
  auth?: Pick<HttpsRequest, 'cert' | 'key' | 'headers'>;
  connectTimeoutMs?: number;
  /** Each request's overall deadline (default https.ts DEFAULT_DEADLINE_MS). */
  requestDeadlineMs?: number;
  /** The run's signal: a stopping agent does not wait for a slow endpoint. */
  signal?: AbortSignal;
  now?: () => number;
  /** Told when the API server asks to wait (429/503 + Retry-After) before a request is sent again. */
  onThrottled?: Throttled;
  random?: () => number;
}

export type Throttled = (path: string, attempt: number, delayMs: number, status: number) => void;

export type Get = (name: string, path: string, opts?: { ca?: string; auth?: ProbeOptions['auth'] }) => Promise<HttpsResponse & { rttMid: number }>;

// TCP, TLS + /healthz, /version (skew against kubernetesVersion), clock (Date header).
export async function probeApiServer(c: Checks, out: DiscoveryResult, host: string, port: number, o: ProbeOptions): Promise<Get> {
  const where = joinHostPort(host, port);
  out.apiServer = where;
  const ms = await tcpProbe(host, port, o.connectTimeoutMs, o.signal).catch((e: unknown) => c.netFail('tcp', e, host, port));
  c.add('tcp', 'pass', `TCP connect to ${where} in ${ms} ms`);
  const now = o.now ?? Date.now;
  const get: Get = async (name, path, g = {}) => {
    const t0 = now();
    const ca = 'ca' in g ? g.ca : o.ca;
    const r = await requestHonouringRetryAfter({ host, port, path, ca, ...(g.auth ?? {}), connectTimeoutMs: o.connectTimeoutMs, deadlineMs: o.requestDeadlineMs, signal: o.signal }, { random: o.random, signal: o.signal, onRetry: (attempt, delayMs, status) => o.onThrottled?.(path, attempt, delayMs, status) }).catch((e: unknown) => {
      if (e instanceof NetError && e.kind === 'tls' && ca !== undefined && o.tlsHint) c.fail(name, `TLS with ${where} failed: ${e.message}`, o.tlsHint, false);
      return c.netFail(name, e, host, port);
    });
    out.throttledRetries = (out.throttledRetries ?? 0) + r.retries;
    if (r.status === 429) c.fail(name, `the API server is overloaded: ${path} answered 429 TooManyRequests ${r.retries + 1} times, each time after the Retry-After it asked for`, 'the control plane sheds load (API Priority and Fairness): the agent tries again with back-off; on the control plane, `kubectl get --raw /metrics | grep apiserver_flowcontrol_rejected_requests_total`', true);
    return { ...r, rttMid: (t0 + now()) / 2 };
  };
  const health = await get('tls', '/healthz');
  c.add('tls', 'pass', `TLS handshake with ${where}${o.ca !== undefined ? ' (server certificate verified)' : ''}`);
  if (health.status !== 200 || health.body.trim() !== 'ok') {
    c.fail('healthz', `API server /healthz answered ${health.status}: ${health.body.trim().slice(0, 200) || '(empty)'}`, 'the control plane is not healthy: on it, `kubectl get --raw "/healthz?verbose"` and the kube-apiserver logs', true);
  }
  c.add('healthz', 'pass', '/healthz: ok');

  const ver = await get('version', '/version');
  const gitVersion = safeJson<{ gitVersion?: string }>(ver.body)?.gitVersion;
  if (ver.status !== 200 || !gitVersion) c.fail('version', `API server /version answered ${ver.status} without a gitVersion`, 'is this a Kubernetes API server?', true);
  out.serverVersion = gitVersion;
  const skew = versionSkew(o.kubeletVersion, gitVersion!);
  if (skew.level === 'fail') c.fail('version', skew.message!, skew.hint, false);
  c.add('version', skew.level === 'warn' ? 'warn' : 'pass', skew.message ?? `API server ${gitVersion} matches kubernetesVersion`, skew.hint);

  const date = Date.parse(String(ver.headers.date ?? ''));
  if (Number.isNaN(date)) c.add('clock', 'skip', 'the API server sent no Date header: clock not compared');
  else {
    // the Date header has 1 s resolution and was stamped somewhere in the round trip
    const skewMs = date + 500 - ver.rttMid;
    out.clockSkewMs = Math.round(skewMs);
    const text = `this node's clock is ${formatSkew(skewMs)} the API server's`;
    const hint = 'turn on time sync (`timedatectl set-ntp true`, host.ntp: true) on this node and the control plane; check `timedatectl` / `chronyc tracking`';
    if (Math.abs(skewMs) > CLOCK_FAIL_MS) c.fail('clock', `clock skew: ${text}; certificates will fail x509 checks ("not yet valid" / "expired")`, hint, false);
    const warn = Math.abs(skewMs) > CLOCK_WARN_MS;
    c.add('clock', warn ? 'warn' : 'pass', warn ? `clock skew: ${text}` : 'clock within 10s of the API server', warn ? hint : undefined);
  }
  return get;
}

export function safeJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export function formatSkew(ms: number): string {
  const s = Math.abs(ms) / 1000;
  const amount = s >= 120 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`;
  return ms > 0 ? `${amount} behind` : `${amount} ahead of`;
}
