import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

// GET through an HTTP proxy, for the agent's own downloads (repository keys): Node 22's
// fetch does not read HTTP(S)_PROXY. http:// URLs go to the proxy as an absolute-form
// request; https:// URLs through a CONNECT tunnel, TLS end to end with the server (the
// proxy sees only the host name). Proxy credentials travel as Proxy-Authorization.
export interface ProxiedResponse {
  status: number;
  body: Buffer;
}

// maxBytes: a larger body is cut off (an Error with code E2BIG), for downloads that are
// small by nature (a repository key) from a server not trusted yet.
export async function getViaProxy(url: string, proxyUrl: string, signal: AbortSignal, redirects = 5, headers: Record<string, string> = {}, maxBytes = Infinity): Promise<ProxiedResponse & { headers: Record<string, string | string[] | undefined> }> {
  const target = new URL(url);
  const proxy = new URL(proxyUrl);
  const auth: Record<string, string> = proxy.username ? { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` } : {};
  const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
  const http = process.getBuiltinModule('node:http');
  let res: IncomingMessage;
  if (target.protocol === 'http:') {
    res = await request(() => http.request({ host: proxy.hostname, port: proxyPort, method: 'GET', path: target.href, headers: { ...headers, host: target.host, ...auth }, agent: false, signal }));
  } else {
    const socket = await connectTunnel(proxy.hostname, proxyPort, target, auth, signal);
    const https = process.getBuiltinModule('node:https');
    res = await request(() => https.request({ host: target.hostname, port: Number(target.port || 443), path: target.pathname + target.search, method: 'GET', headers, servername: target.hostname.replace(/^\[|\]$/g, ''), createConnection: () => process.getBuiltinModule('node:tls').connect({ socket, servername: target.hostname }), agent: false, signal }));
  }
  const location = res.headers.location;
  if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location && redirects > 0) {
    res.resume();
    // a redirect to blob storage must not carry the registry's Authorization
    const { authorization: _a, ...rest } = headers;
    return getViaProxy(new URL(location, target).href, proxyUrl, signal, redirects - 1, new URL(location, target).host === target.host ? headers : rest, maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    size += (c as Buffer).length;
    if (size > maxBytes) {
      res.destroy();
      throw Object.assign(new Error(`${url}: the answer is larger than ${maxBytes} bytes`), { code: 'E2BIG' });
    }
    chunks.push(c as Buffer);
  }
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers };
}

function request(make: () => import('node:http').ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = make();
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

// CONNECT host:port; a proxy refusal (407 without or with wrong credentials, 403 for a
// port it does not tunnel) is an error naming the proxy's answer.
function connectTunnel(host: string, port: number, target: URL, auth: Record<string, string>, signal: AbortSignal): Promise<Socket> {
  const authority = `${target.hostname}:${target.port || 443}`;
  return new Promise((resolve, reject) => {
    const req = process.getBuiltinModule('node:http').request({ host, port, method: 'CONNECT', path: authority, headers: { host: authority, ...auth }, agent: false, signal });
    req.once('connect', (res: IncomingMessage, socket: Socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new Error(`the proxy refused CONNECT ${authority}: HTTP ${res.statusCode}${res.statusCode === 407 ? ' (proxy authentication required: check the user and password in proxy.https)' : ''}`));
    });
    req.once('error', reject);
    req.end();
  });
}
