import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary, statusInNode, waitForStatus } from '../harness/agent.js';
import { assertJoined } from '../harness/assertions.js';
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

  const s = await waitForStatus(node, 'the port reported as filtered', (d) => /filtered/i.test(JSON.stringify([d.lastError, d.steps.map((x) => [x.message, x.hint, x.progress])])), 6 * 60_000);
  assert.equal(s.joined, false);
  assert.equal(s.ready, false);
  const text = JSON.stringify([s.lastError, s.steps.map((x) => [x.message, x.hint])]);
  assert.match(text, new RegExp(`${node.link.host.replaceAll('.', '\\.')}:6443`), '/status names the endpoint');
  assert.match(text, /firewall/i, '/status says what to check (the firewall on the control plane)');
  const st = await node.exec(['joinagent', 'status'], { allowFailure: true });
  assert.ok([1, 3].includes(st.exitCode), `joinagent status exits 1 or 3 while unreachable, got ${st.exitCode}`);
  assert.match(st.stdout, /filtered/i, `joinagent status says filtered:\n${st.stdout}`);

  await dropPort(SLOT, false);
  const t = Date.now();
  await waitForStatus(node, 'joined after the drop was lifted', (d) => d.ready && d.joined, 6 * 60_000);
  log(`joined ${((Date.now() - t) / 1000).toFixed(1)}s after the port came back`);
  await assertJoined(w!);
  assert.equal((await node.exec(['joinagent', 'status'], { allowFailure: true })).exitCode, 0);
  assert.equal((await statusInNode(node)).lastError, undefined, 'the old error is cleared once joined');
}, () => w?.node);
