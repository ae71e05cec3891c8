import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, exitOf, httpGet, spawnAgent, waitFor } from '../helpers/binary.js';
import { statusConfigYaml } from '../helpers/status-config.js';

// The status endpoint and `joinagent status`, against the built binary. The agent runs
// on a temp root with an empty PATH: every host step finds no tool and the run fails
// early, which is exactly a state /status must explain. The API server address is on
// loopback with nothing listening.
const PORT = 19801;
const TOKEN = 'abcdef.0123456789abcdef';
const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-status-'));
const root = path.join(dir, 'root');
const config = path.join(dir, 'config.yaml');
writeFileSync(config, statusConfigYaml({ port: PORT, apiServer: '127.0.0.1:19809', token: TOKEN, discovery: { caCertHash: `sha256:${'b'.repeat(64)}` } }), { mode: 0o600 });
const args = ['--config', config, '--root', root, '--log-format', 'json'];

describe('status endpoint (built binary)', () => {
  let agent: ReturnType<typeof spawnAgent>;
  before(async () => {
    agent = spawnAgent(['run', ...args]);
    await waitFor('agent to finish its first converge', async () => {
      const r = await httpGet(PORT, '/status');
      const d = JSON.parse(r.body);
      return d.phase !== 'starting' && !d.steps.some((s: { state: string }) => s.state === 'running' || s.state === 'pending') ? d : undefined;
    });
  });
  after(async () => {
    if (agent.exitCode === null) agent.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /healthz is 200 while the process lives', async () => {
    const r = await httpGet(PORT, '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok\n');
  });

  it('GET /status describes agent, node, phase and steps, with no secret', async () => {
    const r = await httpGet(PORT, '/status');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['access-control-allow-origin'], undefined, 'no CORS');
    const d = JSON.parse(r.body);
    assert.match(d.agent.version, /^\d+\.\d+\.\d+/);
    assert.equal(d.agent.pid, agent.pid);
    assert.ok(Date.parse(d.agent.startedAt));
    assert.equal(d.node.hostname, os.hostname());
    assert.ok(d.node.kernel);
    assert.equal(typeof d.ready, 'boolean');
    assert.equal(d.ready, false);
    assert.ok(Array.isArray(d.steps));
    assert.doesNotMatch(r.body, /0123456789abcdef/);
  });

  it('GET /readyz is 503 with the reason until the node has joined', async () => {
    const r = await httpGet(PORT, '/readyz');
    assert.equal(r.status, 503);
    assert.match(r.body, /^not ready: .+/);
  });

  it('refuses foreign Host headers, non-GET methods and unknown paths', async () => {
    assert.equal((await httpGet(PORT, '/status', { host: 'evil.example:9797' })).status, 421);
    assert.equal((await httpGet(PORT, '/status', { host: 'localhost:9797' })).status, 200);
    assert.equal((await httpGet(PORT, '/status', { method: 'POST' })).status, 405);
    assert.equal((await httpGet(PORT, '/nope')).status, 404);
  });

  it('`joinagent status` prints the table and exits 1 for a failed agent; --json prints the document', () => {
    const r = cli(['status', '--address', `127.0.0.1:${PORT}`]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^node\s+\S+/m);
    assert.match(r.stdout, /^phase\s+failed/m);
    const j = cli(['status', '--json', ...args]);
    assert.equal(JSON.parse(j.stdout).agent.pid, agent.pid, 'address read from the config file');
  });

  it('a second agent on the same host fails with a clear message (lock)', () => {
    const r = cli(['run', '--once', ...args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /another joinagent is already running \(pid \d+/);
  });

  it('SIGTERM stops the daemon with exit 0; a restarted agent reports the previous run', async () => {
    agent.kill('SIGTERM');
    assert.equal(await exitOf(agent), 0, agent.output());
    const again = spawnAgent(['run', ...args]);
    try {
      const d = await waitFor('restarted agent', async () => JSON.parse((await httpGet(PORT, '/status')).body));
      assert.notEqual(d.agent.pid, agent.pid);
      assert.equal(d.previousRun.mode, 'run');
      assert.equal(typeof d.previousRun.ok, 'boolean');
      assert.ok(Date.parse(d.previousRun.endedAt), 'the previous run ended and was recorded');
    } finally {
      again.kill('SIGTERM');
      assert.equal(await exitOf(again), 0);
    }
  });

  it('`joinagent status` exits 4 when no agent answers, and --wait gives up at --timeout', () => {
    const r = cli(['status', '--address', '127.0.0.1:19808']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /no agent answers at http:\/\/127\.0\.0\.1:19808\/status \(connection refused\)/);
    const t0 = Date.now();
    const w = cli(['status', '--wait', '--timeout', '2s', '--address', '127.0.0.1:19808']);
    assert.equal(w.code, 4);
    assert.ok(Date.now() - t0 >= 1500, 'waited');
    assert.equal(cli(['status', '--timeout', 'soon']).code, 2);
  });
});
