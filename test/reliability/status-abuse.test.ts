import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exitOf, httpGet, spawnAgent, waitFor } from '../helpers/binary.js';
import { statusConfigYaml } from '../helpers/status-config.js';

// Abuse of the status endpoint: garbage, oversized headers, a foreign Host, 1,000
// concurrent connections and slow-header clients. The agent must keep answering
// /healthz and stay alive. All traffic is on loopback and every loop is bounded.
const PORT = 19802;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-abuse-'));
const config = path.join(dir, 'config.yaml');
writeFileSync(config, statusConfigYaml({ port: PORT, apiServer: '127.0.0.1:19809' }), { mode: 0o600 });

function raw(payload: string | Buffer, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(PORT, '127.0.0.1');
    let out = '';
    s.on('data', (c) => (out += c.toString()));
    s.on('error', () => resolve(out));
    s.on('close', () => resolve(out));
    s.setTimeout(waitMs, () => s.destroy());
    s.write(payload);
  });
}

// on a new connection, as a health monitor asks
async function healthyQuickly(): Promise<number> {
  const t0 = Date.now();
  const r = await httpGet(PORT, '/healthz', { fresh: true });
  assert.equal(r.status, 200);
  return Date.now() - t0;
}

describe('status endpoint abuse (built binary)', () => {
  let agent: ReturnType<typeof spawnAgent>;
  before(async () => {
    agent = spawnAgent(['run', '--config', config, '--root', path.join(dir, 'root'), '--log-format', 'json']);
    await waitFor('agent up', async () => (await httpGet(PORT, '/healthz')).status === 200);
  });
  after(async () => {
    agent.kill('SIGTERM');
    await exitOf(agent);
    rmSync(dir, { recursive: true, force: true });
  });

  it('malformed requests get 400 and the server lives on', async () => {
    assert.match(await raw('GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(await raw(Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10])), /^HTTP\/1\.1 400/);
    assert.match(await raw(`GET /status HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
    assert.match(await raw('GET /status HTTP/1.1\r\nHost: attacker.example\r\n\r\n'), /^HTTP\/1\.1 421/);
    assert.match(await raw('GET /status HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 (400|421)/, 'no Host header');
    await healthyQuickly();
  });

  it('1,000 concurrent connections: all answered or cleanly refused, then healthy', async () => {
    const results = await Promise.all(Array.from({ length: 1000 }, () => httpGet(PORT, '/status').then((r) => r.status, () => 0)));
    const okCount = results.filter((s) => s === 200).length;
    assert.ok(okCount >= 900, `${okCount}/1000 answered`);
    assert.ok(results.every((s) => s === 200 || s === 0));
    await healthyQuickly();
  });

  // issue 17 item 12: with 2,000 connections held open (idle, or half a request) the
  // server refused every new one until the old ones timed out (~25 s)
  it('2,000 local connections held open: /healthz still answers within 2 s, again and again', async () => {
    const held: net.Socket[] = [];
    try {
      await Promise.all(
        Array.from({ length: 2000 }, (_, i) => new Promise<void>((resolve) => {
          const s = net.connect(PORT, '127.0.0.1');
          held.push(s);
          s.on('error', () => resolve());
          s.once('connect', () => {
            if (i % 2) s.write('GET /status HTTP/1.1\r\nHost: localhost\r\n');
            resolve();
          });
        })),
      );
      // let the server take them all in before asking
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 5; i++) {
        const ms = await healthyQuickly();
        assert.ok(ms < 2000, `healthz took ${ms} ms behind 2,000 held connections`);
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      for (const s of held) s.destroy();
    }
    assert.equal(agent.exitCode, null, 'agent still running');
  });

  it('slow-header clients do not block others and are cut off by the header timeout', async () => {
    const slow: net.Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const s = net.connect(PORT, '127.0.0.1');
      s.on('error', () => undefined);
      // read what the server sends (its 408 before it hangs up), or the end is never seen
      s.resume();
      s.write('GET /status HTTP/1.1\r\nHost: localhost\r\n');
      slow.push(s);
    }
    try {
      const ms = await healthyQuickly();
      assert.ok(ms < 2000, `healthz took ${ms} ms behind 200 slow clients`);
      // headersTimeout is 5 s: the server must hang up on them by itself
      await waitFor('slow clients cut off', async () => slow.every((s) => s.destroyed || s.readableEnded), 20_000);
    } finally {
      for (const s of slow) s.destroy();
    }
    assert.equal(agent.exitCode, null, 'agent still running');
  });
});
