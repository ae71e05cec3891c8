import http from 'node:http';
import { isIP, type Socket } from 'node:net';
import os from 'node:os';
import { splitHostPort } from '../config/formats.js';
import { redact } from '../host/redact.js';
import type { StatusModel } from './model.js';

export interface StatusServerOptions {
  address: string;
  model: StatusModel;
  /** Extra routes (e.g. /metrics) added by later features. */
  routes?: Record<string, (res: http.ServerResponse) => void | Promise<void>>;
}

// Connections held at once. Beyond it the oldest idle one (no request in progress: an
// idle keep-alive, a client that sent half its headers) is closed to make room, so a
// flood of local connections cannot lock a health monitor out.
const MAX_CONNECTIONS = 1000;

// Status over HTTP. Loopback by default; refuses Host headers that are names other than
// localhost and this host's own (DNS rebinding: a browser page must not read node state
// through a name that resolves to this node), whatever the bind address; sends no CORS
// headers, and bounds every timeout so slow clients cannot pin sockets.
export async function startStatusServer(opts: StatusServerOptions): Promise<http.Server> {
  const hp = splitHostPort(opts.address);
  if (!hp) throw new Error(`status.address "${opts.address}" is not host:port`);
  const hostname = os.hostname().toLowerCase();
  const names = new Set(['localhost', 'localhost.', hostname, hostname.split('.')[0]]);
  // the headers timeout is enforced by a periodic sweep (every 30 s by default): every second
  const server = http.createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  makeRoom(server);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = hostOf(req.headers.host ?? '');
    if (!isIP(host) && !names.has(host)) return send(res, 421, { error: `Host "${redact(host)}" refused: the status endpoint answers IP addresses, localhost and this host's name only` });
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(hp.port, hp.host.replace(/^\[|\]$/g, ''), () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

// "[::1]:9797" -> "::1", "LocalHost:9797" -> "localhost"
function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](:\d+)?$/.exec(h);
  return v6 ? v6[1] : h.replace(/:\d+$/, '');
}

// Keeps at most MAX_CONNECTIONS open by closing the oldest idle one when a new one arrives
// (a Set iterates in insertion order); server.maxConnections would refuse the new one.
function makeRoom(server: http.Server): void {
  const open = new Set<Socket>();
  const busy = new WeakSet<Socket>();
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.once('close', () => open.delete(s));
    if (open.size <= MAX_CONNECTIONS) return;
    for (const old of open) {
      if (old === s || busy.has(old)) continue;
      old.destroy();
      open.delete(old);
      break;
    }
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    busy.add(req.socket);
    res.once('close', () => busy.delete(req.socket));
  });
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
