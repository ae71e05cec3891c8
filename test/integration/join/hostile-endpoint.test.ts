import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { after, test } from 'node:test';
import { makePki } from '../../fixtures/pki.js';
import { httpGet, waitFor } from '../../helpers/binary.js';
import { BINARY, tempRoot, TOKEN, writeConfig } from './harness.js';

// Issue 17 item 8 through the built binary: an agent whose discovery waits on an endpoint
// that accepts the request and never answers stops at SIGTERM at once (the run's abort
// signal reaches the request), instead of after the request's own timeout.
const PORT = 19742;
const STATUS = 19743;
const pki = makePki('black-hole');
const cert = pki.issue({ cn: 'black-hole', sans: ['IP:127.0.0.1'] });
const sockets = new Set<net.Socket>();
const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, () => undefined);
server.on('secureConnection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});
const { root, cleanup } = tempRoot();
after(() => {
  for (const s of sockets) s.destroy();
  server.close();
  cleanup();
  rmSync(pki.dir, { recursive: true, force: true });
});

test('SIGTERM while discovery waits on a silent endpoint: the agent exits at once', { timeout: 60_000 }, async () => {
  await new Promise<void>((r) => server.listen(PORT, '127.0.0.1', r));
  const config = writeConfig(root, { endpoint: `127.0.0.1:${PORT}`, token: TOKEN, unsafe: true, statusPort: STATUS });
  const agent = spawn(BINARY, ['run', '--only', 'discovery', '--config', config, '--root', `${root}/host`, '--log-format', 'json'], { env: { PATH: '/nonexistent', HOME: '/root' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  agent.stdout.on('data', (c: Buffer) => (out += c));
  agent.stderr.on('data', (c: Buffer) => (out += c));
  const exited = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));
  try {
    // discovery is running and its request has reached the server
    await waitFor('discovery to be waiting on the endpoint', async () => {
      const s = await httpGet(STATUS, '/status').catch(() => undefined);
      const doc = s?.status === 200 ? (JSON.parse(s.body) as { steps: { id: string; state: string }[] }) : undefined;
      return sockets.size > 0 && doc?.steps.some((x) => x.id === 'discovery' && x.state === 'running') ? true : undefined;
    });
    const t0 = Date.now();
    agent.kill('SIGTERM');
    const code = await exited;
    const ms = Date.now() - t0;
    assert.equal(code, 0, out);
    assert.ok(ms < 3000, `the agent took ${ms} ms to stop after SIGTERM:\n${out.slice(-2000)}`);
  } finally {
    agent.kill('SIGKILL');
  }
});
