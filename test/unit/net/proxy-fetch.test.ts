import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { getViaProxy } from '../../../src/net/proxy-fetch.js';

// The agent's own downloads through a forward proxy: absolute-form GET for http://, CONNECT
// for https://, the credentials of the proxy URL as Proxy-Authorization. The proxy here is
// a few lines of node:http on loopback that records what it was asked.
describe('getViaProxy', () => {
  const seen: { method: string; url: string; auth?: string }[] = [];
  const proxy = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, auth: req.headers['proxy-authorization'] });
    if (req.headers['proxy-authorization'] !== `Basic ${Buffer.from('ops:p@ss').toString('base64')}`) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="x"' }).end();
      return;
    }
    if (req.url === 'http://repo.site.test/redirect') res.writeHead(302, { location: '/key.asc' }).end();
    else res.writeHead(200).end(`served ${req.url}`);
  });
  proxy.on('connect', (req, socket) => {
    seen.push({ method: 'CONNECT', url: req.url!, auth: req.headers['proxy-authorization'] });
    socket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
  });
  after(() => proxy.close());
  const url = async (user = 'ops:p%40ss@'): Promise<string> => {
    if (!proxy.listening) await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    return `http://${user}127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  };

  it('http: the absolute URL to the proxy, with the (decoded) credentials; redirects followed through it', async () => {
    const r = await getViaProxy('http://repo.site.test/redirect', await url(), AbortSignal.timeout(5000));
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'served http://repo.site.test/key.asc');
    assert.deepEqual(seen.slice(-2).map((s) => `${s.method} ${s.url}`), ['GET http://repo.site.test/redirect', 'GET http://repo.site.test/key.asc']);
  });
  it('http without credentials: the proxy\'s 407 is the answer', async () => {
    const r = await getViaProxy('http://repo.site.test/key.asc', await url(''), AbortSignal.timeout(5000));
    assert.equal(r.status, 407);
  });
  it('https: a CONNECT tunnel to host:443 carrying the credentials; a refusal names the proxy\'s answer', async () => {
    await assert.rejects(getViaProxy('https://pkgs.example/core/Release.key', await url(), AbortSignal.timeout(5000)), /the proxy refused CONNECT pkgs\.example:443: HTTP 407 \(proxy authentication required/);
    assert.deepEqual(seen.at(-1), { method: 'CONNECT', url: 'pkgs.example:443', auth: `Basic ${Buffer.from('ops:p@ss').toString('base64')}` });
  });
});
