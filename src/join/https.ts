import net from 'node:net';
import { joinHostPort } from '../config/formats.js';

// Minimal HTTPS client for discovery and node status. It records how far a connection
// got (TCP, TLS, HTTP) so a failure can be named precisely: "refused" (something
// answered with RST: nothing listening, or a REJECT rule) is a different problem from
// "timed out" (packets dropped: a firewall such as firewalld on the control plane).
export type NetFailure = 'dns' | 'refused' | 'timeout' | 'unreachable' | 'reset' | 'tls' | 'http';

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
  timeoutMs?: number;
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

// One request on a fresh connection (no agent: discovery must see each TCP handshake).
export function httpsRequest(r: HttpsRequest): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    let stage: 'tcp' | 'tls' | 'http' = 'tcp';
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
    const connectTimer = setTimeout(() => req.destroy(new NetError('timeout', `no answer from ${joinHostPort(r.host, r.port)} within ${(r.connectTimeoutMs ?? DEFAULT_CONNECT_MS) / 1000}s`, 'ETIMEDOUT')), r.connectTimeoutMs ?? DEFAULT_CONNECT_MS);
    req.setTimeout(r.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => req.destroy(new NetError('timeout', `${joinHostPort(r.host, r.port)} stopped answering during ${stage === 'http' ? 'the HTTP request' : 'the TLS handshake'}`, 'ETIMEDOUT')));
    req.on('socket', (s: net.Socket) => {
      s.once('connect', () => {
        clearTimeout(connectTimer);
        stage = 'tls';
      });
      s.once('secureConnect', () => {
        stage = 'http';
      });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(classify(e, 'http', r)));
    });
    req.on('error', (e) => {
      clearTimeout(connectTimer);
      reject(e instanceof NetError ? e : classify(e, stage, r));
    });
    req.on('close', () => clearTimeout(connectTimer));
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
export function tcpProbe(host: string, port: number, timeoutMs = DEFAULT_CONNECT_MS): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new NetError('timeout', `connection to ${joinHostPort(host, port)} timed out after ${timeoutMs / 1000}s: packets are dropped (a firewall, e.g. firewalld on the control plane)`, 'ETIMEDOUT'));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Date.now() - started);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(classify(e, 'tcp', { host, port }));
    });
  });
}
