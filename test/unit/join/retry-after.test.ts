import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { jitteredDelayMs, requestHonouringRetryAfter, retryAfterSeconds } from '../../../src/join/retry-after.js';
import { makePki, type Pki } from '../../fixtures/pki.js';

describe('Retry-After', () => {
  test('429 and 503 with Retry-After in seconds or as a date; 429 without it waits 1 s', () => {
    const now = Date.parse('2026-12-02T10:00:00Z');
    assert.equal(retryAfterSeconds({ status: 429, headers: { 'retry-after': '1' } }), 1);
    assert.equal(retryAfterSeconds({ status: 503, headers: { 'retry-after': '7' } }), 7);
    assert.equal(retryAfterSeconds({ status: 429, headers: {} }), 1);
    assert.equal(retryAfterSeconds({ status: 503, headers: {} }), undefined, 'a 503 without Retry-After is an error, not a request to wait');
    assert.equal(retryAfterSeconds({ status: 200, headers: { 'retry-after': '5' } }), undefined);
    assert.equal(retryAfterSeconds({ status: 429, headers: { 'retry-after': 'Wed, 02 Dec 2026 10:00:04 GMT' } }, now), 4);
    assert.equal(retryAfterSeconds({ status: 429, headers: { 'retry-after': '3600' } }), 30, 'capped: one header must not stall a step for an hour');
    assert.equal(retryAfterSeconds({ status: 429, headers: { 'retry-after': '0' } }), 1);
  });

  test('the wait is never shorter than asked and spreads over [Retry-After, 2 x Retry-After]', () => {
    assert.equal(jitteredDelayMs(1, () => 0), 1000);
    assert.equal(jitteredDelayMs(1, () => 0.999), 1999);
    const waits = Array.from({ length: 200 }, () => jitteredDelayMs(2));
    assert.ok(waits.every((w) => w >= 2000 && w <= 4000));
    // 200 agents throttled at once come back spread out, not in one second
    const buckets = new Set(waits.map((w) => Math.floor(w / 250)));
    assert.ok(buckets.size >= 7, `retries bunched into ${buckets.size} quarter-seconds`);
  });

  describe('against a server that sheds load', () => {
    let pki: Pki;
    let srv: https.Server;
    let port = 0;
    let seen: number[] = [];
    let reject = 0;
    before(async () => {
      pki = makePki();
      const cert = pki.issue({ cn: 'srv', sans: ['IP:127.0.0.1'] });
      srv = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (_req, res) => {
        seen.push(Date.now());
        if (reject-- > 0) {
          res.writeHead(429, { 'retry-after': '1' });
          return res.end('{"kind":"Status","reason":"TooManyRequests","code":429}');
        }
        res.end('ok');
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      port = (srv.address() as { port: number }).port;
    });
    after(() => {
      srv.close();
      rmSync(pki.dir, { recursive: true, force: true });
    });

    test('waits as asked, then gets the answer; reports each wait', async () => {
      seen = [];
      reject = 2;
      const told: number[] = [];
      const r = await requestHonouringRetryAfter({ host: '127.0.0.1', port, path: '/version', ca: pki.caPem }, { onRetry: (_a, ms) => told.push(ms) });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'ok');
      assert.equal(r.retries, 2);
      assert.equal(seen.length, 3);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i] - seen[i - 1] >= 990, `retry ${i} came after ${seen[i] - seen[i - 1]} ms: earlier than Retry-After`);
      assert.deepEqual(told.length, 2);
      assert.ok(told.every((ms) => ms >= 1000 && ms <= 2000));
    });

    test('gives up after maxRetries and returns the 429', async () => {
      seen = [];
      reject = 100;
      const r = await requestHonouringRetryAfter({ host: '127.0.0.1', port, path: '/version', ca: pki.caPem }, { maxRetries: 1, random: () => 0 });
      assert.equal(r.status, 429);
      assert.equal(r.retries, 1);
      assert.equal(seen.length, 2);
      reject = 0;
    });

    test('all waits of one request stay within its budget, then the 429 is the answer', async () => {
      seen = [];
      reject = 100;
      const told: number[] = [];
      // Retry-After: 1 s each; a 2.5 s budget allows two full waits and a shortened third
      const r = await requestHonouringRetryAfter({ host: '127.0.0.1', port, path: '/version', ca: pki.caPem }, { random: () => 0, budgetMs: 2500, onRetry: (_a, ms) => told.push(ms) });
      assert.equal(r.status, 429);
      assert.deepEqual(told, [1000, 1000, 500]);
      assert.equal(r.retries, 3);
      assert.equal(seen.length, 4);
      reject = 0;
    });
  });
});
