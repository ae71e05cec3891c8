import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export interface StaticServer {
  url: string;
  /** Paths requested so far, for assertions (e.g. apt fetched InRelease). */
  requests: string[];
  close(): Promise<void>;
  /** Fault injection for the reliability suite: 'error500' answers every request with
   *  500, 'down' stops listening (connection refused); 'none' (the default) serves files. */
  setFault?(fault: 'none' | 'error500' | 'down'): Promise<void>;
}

// A tiny read-only static file server for the apt repository (and the binary in the
// cloud-init scenario): GET/HEAD only, no directory listings, no path escapes.
export async function serveDir(dir: string, host: string, port: number, prefix = '/'): Promise<StaticServer> {
  const requests: string[] = [];
  let fault: 'none' | 'error500' | 'down' = 'none';
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname);
    if (fault === 'error500') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal server error (fault injected by the test)\n');
      return;
    }
    const rel = url.pathname.startsWith(prefix) ? decodeURIComponent(url.pathname.slice(prefix.length)) : undefined;
    const file = rel === undefined ? undefined : path.join(dir, path.normalize('/' + rel));
    const st = file ? await fs.stat(file).catch(() => undefined) : undefined;
    if (!file || !st?.isFile() || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-length': st.size, 'last-modified': st.mtime.toUTCString(), 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  const listen = (): Promise<void> => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const stop = (): Promise<void> => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
  await listen();
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${prefix}`,
    requests,
    close: () => (server.listening ? stop() : Promise.resolve()),
    async setFault(f) {
      if (f === 'down' && server.listening) await stop();
      if (f !== 'down' && !server.listening) await listen();
      fault = f;
    },
  };
}
