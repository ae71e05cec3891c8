import net from 'node:net';
import { joinHostPort } from '../config/formats.js';

// Minimal HTTPS client for discovery and node status. It records how far a connection
// got (TCP, TLS, HTTP) so a failure can be named precisely: "refused" (something
// answered with RST: nothing listening, or a REJECT rule) is a different problem from
// "timed out" (packets dropped: a firewall such as firewalld on the control plane).
export type NetFailure = 'dns' | 'refused' | 'timeout' | 'unreachable' | 'reset' | 'tls' | 'http' | 'aborted';

export class NetError extends Error {
  constructor(
    readonly kind: NetFailure,
    message: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NetError';
  }
}

export interface HttpsRequest {
  host: string;
  port: number;
  path: string;
  method?: string;
  /** PEM CA to verify the server with; undefined = do not verify (discovery's first, insecure fetch). */
  ca?: string;
  cert?: string | Buffer;
  key?: string | Buffer;
  headers?: Record<string, string>;
  body?: string;
  connectTimeoutMs?: number;
  /** Idle time allowed between bytes. */
  timeoutMs?: number;
  /** The whole request, connect to last byte: a server dripping bytes never goes idle. */
  deadlineMs?: number;
  /** A larger response is cut off: the endpoint is not authenticated yet (discovery). */
  maxBodyBytes?: number;
  /** The run's signal: a stopping agent does not wait for a server. */
  signal?: AbortSignal;
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

// node:dns loads at the first name lookup, not at start-up (most commands never resolve a name)
export function lookup(host: string): Promise<import('node:dns').LookupAddress> {
  return process.getBuiltinModule('node:dns/promises').lookup(host);
}

const DEFAULT_CONNECT_MS = 5000;
const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_DEADLINE_MS = 10_000;
export const DEFAULT_MAX_BODY = 1 << 20;

// One request on a fresh connection (no agent: discovery must see each TCP handshake).
// Bounded three ways, since the server is not authenticated yet: an overall deadline, a
// cap on the body, and the caller's abort signal. The first reason to stop wins and is
// what the caller sees.
export function httpsRequest(r: HttpsRequest): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    let stage: 'tcp' | 'tls' | 'http' = 'tcp';
    let stopped: NetError | undefined;
    const where = joinHostPort(r.host, r.port);
    const max = r.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const deadlineMs = r.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const stop = (e: NetError): void => {
      stopped ??= e;
      req.destroy(stopped);
    };
    const fail = (e: unknown, at: 'tcp' | 'tls' | 'http'): void => reject(stopped ?? (e instanceof NetError ? e : classify(e, at, r)));
    // node:https (and tls) load at the first request, not at start-up
    const req = process.getBuiltinModule('node:https').request({
      host: r.host.replace(/^\[|\]$/g, ''),
      port: r.port,
      path: r.path,
      method: r.method ?? 'GET',
      agent: false,
      ca: r.ca,
      cert: r.cert,
      key: r.key,
      rejectUnauthorized: r.ca !== undefined,
      headers: { accept: 'application/json', 'user-agent': 'joinagent', ...(r.body ? { 'content-type': 'application/json' } : {}), ...r.headers },
    });
    const connectTimer = setTimeout(() => stop(new NetError('timeout', `no answer from ${where} within ${(r.connectTimeoutMs ?? DEFAULT_CONNECT_MS) / 1000}s`, 'ETIMEDOUT')), r.connectTimeoutMs ?? DEFAULT_CONNECT_MS);
    // past the TCP handshake a timeout is not a filtered port (netdiag's 'timeout'): the
    // server is there and answers too slowly
    const slow = (what: string): NetError => new NetError(stage === 'tcp' ? 'timeout' : stage, what, 'ETIMEDOUT');
    const deadline = setTimeout(() => stop(slow(`did not complete the request within ${deadlineMs / 1000}s (it answers too slowly, or stalls)`)), deadlineMs);
    const onAbort = (): void => stop(new NetError('aborted', `stopped before ${where} answered`, 'ABORT_ERR'));
    if (r.signal?.aborted) onAbort();
    else r.signal?.addEventListener('abort', onAbort, { once: true });
    req.setTimeout(r.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => stop(slow(`stopped answering during ${stage === 'http' ? 'the HTTP request' : 'the TLS handshake'}`)));
    req.on('socket', (s: net.Socket) => {
      s.once('connect', () => {
        clearTimeout(connectTimer);
        stage = 'tls';
      });
      s.once('secureConnect', () => {
        stage = 'http';
      });
    });
    const tooLarge = (): NetError => new NetError('http', `the answer to ${r.path} is larger than ${formatBytes(max)}: not what a Kubernetes API server sends`, 'E2BIG');
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      if (Number(res.headers['content-length']) > max) return stop(tooLarge());
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) stop(tooLarge());
        else chunks.push(c);
      });
      res.on('end', () => (stopped ? reject(stopped) : resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (e) => fail(e, 'http'));
    });
    req.on('error', (e) => {
      clearTimeout(connectTimer);
      fail(e, stage);
    });
    req.on('close', () => {
      clearTimeout(connectTimer);
      clearTimeout(deadline);
      r.signal?.removeEventListener('abort', onAbort);
      // destroyed mid-body: 'end' never comes, and the reason may not surface as an error
      if (stopped) reject(stopped);
    });
    req.end(r.body);
  });
}

// Errno and OpenSSL codes -> one failure kind with a sentence naming host and port.
export function classify(e: unknown, stage: 'tcp' | 'tls' | 'http', r: { host: string; port: number }): NetError {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code ?? '';
  const where = joinHostPort(r.host, r.port);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA') return new NetError('dns', `cannot resolve "${r.host}" (${code})`, code, { cause: e });
  if (code === 'ECONNREFUSED') return new NetError('refused', `connection to ${where} refused: nothing listens there, or a firewall rejects it`, code, { cause: e });
  if (code === 'ETIMEDOUT') return new NetError('timeout', `connection to ${where} timed out`, code, { cause: e });
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return new NetError('unreachable', `${where} is unreachable (${code}): no route to it`, code, { cause: e });
  if (stage === 'tls' || /CERT|SSL|TLS|SELF_SIGNED|ERR_TLS|HOSTNAME|ALTNAME/i.test(code)) return new NetError('tls', `TLS with ${where} failed: ${err.message}`, code, { cause: e });
  if (code === 'ECONNRESET' || code === 'EPIPE') return new NetError('reset', `${where} closed the connection (${code})`, code, { cause: e });
  return new NetError(stage === 'tcp' ? 'unreachable' : 'http', `${where}: ${err?.message ?? String(e)}`, code, { cause: e });
}

// A bare TCP handshake: the first discovery check, and `diagnose`'s "TCP to 6443".
export function tcpProbe(host: string, port: number, timeoutMs = DEFAULT_CONNECT_MS, signal?: AbortSignal): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      s.destroy();
    };
    const timer = setTimeout(() => {
      done();
      reject(new NetError('timeout', `connection to ${joinHostPort(host, port)} timed out after ${timeoutMs / 1000}s: packets are dropped (a firewall, e.g. firewalld on the control plane)`, 'ETIMEDOUT'));
    }, timeoutMs);
    const onAbort = (): void => {
      done();
      reject(new NetError('aborted', `stopped before ${joinHostPort(host, port)} answered`, 'ABORT_ERR'));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    s.once('connect', () => {
      done();
      resolve(Date.now() - started);
    });
    s.once('error', (e) => {
      done();
      reject(classify(e, 'tcp', { host, port }));
    });
  });
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${n / (1 << 20)} MiB` : `${Math.round(n / 1024)} KiB`;
}
