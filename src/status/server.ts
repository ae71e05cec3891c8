import http from 'node:http';
import { splitHostPort } from '../config/formats.js';
import { redact } from '../host/redact.js';
import type { StatusModel } from './model.js';

export interface StatusServerOptions {
  address: string;
  model: StatusModel;
  /** Extra routes (e.g. /metrics) added by later features. */
  routes?: Record<string, (res: http.ServerResponse) => void | Promise<void>>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

// Status over HTTP. Loopback by default; refuses foreign Host headers (DNS rebinding:
// a browser page must not read node state through a name that resolves to 127.0.0.1),
// sends no CORS headers, and bounds every timeout so slow clients cannot pin sockets.
export async function startStatusServer(opts: StatusServerOptions): Promise<http.Server> {
  const hp = splitHostPort(opts.address);
  if (!hp) throw new Error(`status.address "${opts.address}" is not host:port`);
  const boundLoopback = LOOPBACK_HOSTS.has(hp.host);
  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (boundLoopback && !LOOPBACK_HOSTS.has(host)) return send(res, 421, { error: `Host "${host}" refused: the status endpoint answers loopback names only` });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'only GET' }, { allow: 'GET, HEAD' });
    // the path without the query; URL parsing per request costs more than the answer
    const pathname = (req.url ?? '/').split('?', 1)[0];
    switch (pathname) {
      case '/status':
        return sendStatus(res, opts.model.body());
      case '/healthz':
        return sendText(res, 200, 'ok\n');
      case '/readyz': {
        const doc = opts.model.doc;
        return doc.ready ? sendText(res, 200, 'ok\n') : sendText(res, 503, `not ready: ${redact(doc.reason ?? doc.phase)}\n`);
      }
      default: {
        const route = opts.routes?.[pathname];
        if (route) return route(res);
        return send(res, 404, { error: 'not found', paths: ['/status', '/healthz', '/readyz', ...Object.keys(opts.routes ?? {})] });
      }
    }
  }

  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5000;
  server.timeout = 15_000;
  server.maxHeadersCount = 50;
  server.maxConnections = 2000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(hp.port, hp.host.replace(/^\[|\]$/g, ''), () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

function send(res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJSON(res, code, JSON.stringify(body, null, 2) + '\n', headers);
}

function sendJSON(res: http.ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(text);
}

// /status is the hot path (monitors poll it): headers as a prebuilt flat list, the body
// as bytes, so a request allocates no header object and encodes nothing.
const STATUS_HEADERS = ['content-type', 'application/json', 'cache-control', 'no-store', 'x-content-type-options', 'nosniff'];

function sendStatus(res: http.ServerResponse, body: Buffer): void {
  res.writeHead(200, STATUS_HEADERS);
  res.end(body);
}

function sendText(res: http.ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}
