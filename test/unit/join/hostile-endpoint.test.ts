import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { discover } from '../../../src/join/discovery.js';
import { httpsRequest } from '../../../src/join/https.js';
import { makePki } from '../../fixtures/pki.js';

// Issue 17 item 8: discovery talks to whatever answers at apiServerEndpoint before it has
// authenticated it. A hostile (or broken) endpoint must not take the agent's memory
// (a 300 MB /healthz took it to 1 GB), must not hold a request open forever by dripping
// bytes (the timeout fired only on idle: 1 byte every 5 s hung discover for 45 s+), and
// a stopping agent must not wait for it. Loopback servers, ports 19771-19773.
const pki = makePki('hostile');
const cert = pki.issue({ cn: 'hostile', sans: ['IP:127.0.0.1'] });
after(() => rmSync(pki.dir, { recursive: true, force: true }));

type Handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
const servers: https.Server[] = [];
const sockets = new Set<net.Socket>();
async function serve(port: number, handler: Handler): Promise<void> {
  const s = https.createServer({ cert: cert.certPem, key: cert.keyPem }, handler);
  s.on('secureConnection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
}
after(() => {
  for (const c of sockets) c.destroy();
  for (const s of servers) s.close();
});

const input = (port: number) => ({ endpoint: `127.0.0.1:${port}`, token: 'abcdef.0123456789abcdef', caCertHashes: [], unsafeSkipCAVerification: true, kubeletVersion: 'v1.32.11' });

describe('discovery against a hostile endpoint', { timeout: 120_000 }, () => {
  const timers = new Set<NodeJS.Timeout>();
  before(async () => {
    // a 300 MB /healthz (the review's), 1 MiB chunks as fast as the client takes them
    await serve(19771, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(1 << 20, 0x61);
      let left = 300;
      const pump = (): void => {
        while (left > 0 && !res.destroyed) {
          left--;
          if (!res.write(chunk)) return;
        }
        if (left === 0) res.end();
      };
      res.on('drain', pump);
      pump();
    });
    // a drip: headers, then one byte every 500 ms, forever
    await serve(19772, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('o'), 500);
      timers.add(t);
      res.on('close', () => clearInterval(t));
    });
    // a black hole: accepts the request and never answers
    await serve(19773, () => undefined);
  });
  after(() => timers.forEach(clearInterval));

  it('a 300 MB body is cut at the cap, fast, without the memory growing with it', { timeout: 30_000 }, async () => {
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    const r = await discover(input(19771));
    const ms = Date.now() - t0;
    assert.equal(r.ok, false);
    assert.match(r.failure?.message ?? '', /127\.0\.0\.1:19771: the answer to \/healthz is larger than 1 MiB/);
    assert.ok(ms < 5000, `took ${ms} ms`);
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    assert.ok(grown < 100, `RSS grew by ${grown.toFixed(0)} MiB`);
  });

  it('a response dripped byte by byte ends at the request deadline, not when the server stops', { timeout: 30_000 }, async () => {
    const t0 = Date.now();
    await assert.rejects(httpsRequest({ host: '127.0.0.1', port: 19772, path: '/healthz', deadlineMs: 2000 }), /did not complete the request within 2s/);
    const ms = Date.now() - t0;
    assert.ok(ms >= 1900 && ms < 3500, `took ${ms} ms`);
    // and discover has a deadline of its own by default (no caller passes one)
    const d = await discover({ ...input(19772), requestDeadlineMs: 1500 });
    assert.equal(d.ok, false);
    assert.match(d.failure?.message ?? '', /127\.0\.0\.1:19772: did not complete the request within 1\.5s/);
    assert.doesNotMatch(d.failure?.message ?? '', /filtered/, 'a slow server is not a firewall');
  });

  it('the default deadline per request is bounded (not just the idle timeout)', { timeout: 30_000 }, async () => {
    const t0 = Date.now();
    const d = await discover(input(19772));
    const ms = Date.now() - t0;
    assert.equal(d.ok, false);
    assert.ok(ms < 13_000, `took ${ms} ms with a byte every 500 ms`);
  });

  it("the run's abort signal stops a request at once", { timeout: 30_000 }, async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 300);
    const d = await discover({ ...input(19773), signal: ac.signal });
    const ms = Date.now() - t0;
    assert.equal(d.ok, false);
    assert.match(d.failure?.message ?? '', /stopped/);
    assert.ok(ms < 1500, `took ${ms} ms after the abort at 300 ms`);
  });
});
