import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary, statusInNode, waitForStatus, waitUnitActive } from '../harness/agent.js';
import type { StatusDocument } from '../../../src/status/model.js';
import { assertJoined, assertPublishedNode } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { dropPort } from '../harness/net.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// The runbook's own incident: firewalld came back on the control plane and 6443 was
// silently dropped. The agent must say "filtered" and what to check, then recover alone.
const SLOT = 5;
let w: World | undefined;
let binary = '';

before(async () => {
  binary = await ensureBinary(log);
  w = await startWorld({ slot: SLOT, log, tokenFile: '/etc/joinagent/token' });
});
after(cleanupAll);

scenario('scenario 5: control plane port filtered, then back: the daemon joins on its own', async () => {
  const { node } = w!;
  await dropPort(SLOT, true, 6443);
  const filtered = await node.exec(['curl', '-sk', '--max-time', '3', `https://${node.link.host}:6443/healthz`], { allowFailure: true });
  assert.equal(filtered.exitCode, 28, 'the drop is in place: curl times out (filtered, not refused)');

  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile('/root/joinagent.yaml', w!.config, 0o600);
  await node.writeFile('/etc/joinagent/token', `${w!.token}\n`, 0o600);
  const r = await node.exec(['/root/joinagent', 'install', '--now', '--config', '/root/joinagent.yaml'], { allowFailure: true, timeoutMs: 60_000 });
  assert.equal(r.exitCode, 0, `install --now exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);

  // Discovery retries inside the run (3 attempts), then the run fails and the daemon
  // schedules its own retry (back-off from 5 s): wait for that state, it is the one an
  // operator finds when a node "hangs".
  const said = (d: StatusDocument): string => JSON.stringify([d.reason, d.lastError, d.steps.map((x) => [x.message, x.hint])]);
  const during = await waitForStatus(node, 'discovery retrying with "filtered" and a hint', (d) => /filtered/.test(said(d)) && /firewall/.test(said(d)), 2 * 60_000);
  assert.equal(during.joined, false);
  const s = await waitForStatus(node, 'the failed run with the daemon\'s retry scheduled', (d) => d.phase === 'failed' && d.next?.action === 'retry', 2 * 60_000);
  assert.equal(s.joined, false);
  assert.equal(s.ready, false);
  assert.equal(s.lastError?.step, 'discovery');
  assert.match(s.lastError?.message ?? '', new RegExp(`${node.link.host.replaceAll('.', '\\.')}:6443.*filtered`), '/status names the endpoint and says filtered');
  assert.match(s.lastError?.hint ?? '', /firewall/i, '/status says what to check (the firewall on the control plane)');
  const st = await node.exec(['joinagent', 'status'], { allowFailure: true });
  assert.ok([1, 3].includes(st.exitCode), `joinagent status exits 1 or 3 while unreachable, got ${st.exitCode}:\n${st.stdout}`);
  assert.match(st.stdout, /filtered/, `joinagent status says filtered:\n${st.stdout}`);
  assert.match(st.stdout, /^hint +check firewalld/m, `joinagent status says what to check:\n${st.stdout}`);
  assert.match(st.stdout, /^next +retry/m, `joinagent status says a retry is coming:\n${st.stdout}`);
  assert.notEqual((await node.exec(['systemctl', 'is-active', 'joinagent'], { allowFailure: true })).stdout.trim(), 'failed', 'the agent process keeps running and retrying');

  await dropPort(SLOT, false);
  const t = Date.now();
  const joined = await waitForStatus(node, 'joined after the drop was lifted', (d) => d.ready && d.joined, 3 * 60_000);
  log(`joined ${((Date.now() - t) / 1000).toFixed(1)}s after the port came back`);
  await assertJoined(w!);
  assert.equal((await node.exec(['joinagent', 'status'], { allowFailure: true })).exitCode, 0);
  assert.equal((await statusInNode(node)).lastError, undefined, 'the old error is cleared once joined');
  await assertPublishedNode(w!, joined);
  await waitUnitActive(node);
}, () => w?.node);
