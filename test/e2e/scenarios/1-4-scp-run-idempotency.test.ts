import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { churnWitness, diffHashes, ensureBinary, hashEtc, statusInNode, waitForStatus } from '../harness/agent.js';
import { assertHostPrepared, assertJoined, assertPublishedNode, assertRuntimeReady, assertTokenNotLeaked } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// Scenario 1 (scp and run) and scenario 4 (idempotency) share one node: the second
// `run --once` on the node scenario 1 joined is exactly what scenario 4 is about.
let w: World | undefined;
let binary = '';
const SWAP = '/swapfile';
const CONFIG = '/root/joinagent.yaml';

before(async () => {
  binary = await ensureBinary(log);
  w = await startWorld({ slot: 1, log });
});
after(cleanupAll);

scenario('scenario 1: scp the binary and a config, run --once, then serve /status', async () => {
  const { node } = w!;
  // a swap file in use and in fstab, like a stock VM image
  await node.sh(`fallocate -l 16M ${SWAP} && chmod 600 ${SWAP} && mkswap ${SWAP} >/dev/null && swapon ${SWAP} && echo '${SWAP} none swap sw 0 0' >> /etc/fstab`);
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, w!.config, 0o600);

  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  await assertHostPrepared(node, { swapFile: SWAP });
  await assertRuntimeReady(node);
  await assertJoined(w!);

  await node.exec(['systemd-run', '--unit=joinagent-adhoc', '/root/joinagent', 'run', '--config', CONFIG]);
  const s = await waitForStatus(node, 'ready', (d) => d.ready, 120_000);
  assert.equal(s.joined, true);
  assert.ok(s.steps.length > 0 && s.steps.every((x) => x.state === 'ok' || x.state === 'skipped'), `every step ok: ${s.steps.map((x) => `${x.id}=${x.state}`).join(' ')}`);
  assert.equal(s.node.nodeIP, node.link.node, 'node IP = the source address of the route to the API server');
  await assertPublishedNode(w!, s);
  await assertTokenNotLeaked(node, w!.token, [r.stdout, r.stderr, JSON.stringify(s)]);
}, () => w?.node);

scenario('scenario 4: a second run --once changes nothing', async () => {
  const { node } = w!;
  await node.exec(['systemctl', 'stop', 'joinagent-adhoc'], { allowFailure: true });
  const steps = (await statusInNode(node).catch(() => undefined))?.steps.length;
  const etcBefore = await hashEtc(node);
  const churnBefore = await churnWitness(node);
  const cursor = (await node.exec(['journalctl', '-n', '0', '--show-cursor', '--no-pager'])).stdout.match(/-- cursor: (.+)/)?.[1];
  assert.ok(cursor, 'a journal cursor to compare against');

  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(r.exitCode, 0, `second run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  const events = (r.stdout + '\n' + r.stderr).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string; step?: string; state?: string });
  const ends = events.filter((e) => e.event === 'step-end');
  assert.ok(ends.length > 0, 'the run reported its steps');
  if (steps !== undefined) assert.equal(ends.length, steps, 'same steps as the first run');
  assert.deepEqual(ends.filter((e) => e.state !== 'ok' && e.state !== 'skipped').map((e) => `${e.step}=${e.state}`), [], 'every step ok');
  assert.deepEqual(events.filter((e) => e.event === 'step-checked').map((e) => e.step), [], 'no step found a difference');

  assert.deepEqual(diffHashes(etcBefore, await hashEtc(node)), [], 'every file under /etc hashes the same');
  assert.deepEqual(await churnWitness(node), churnBefore, 'no restart, no package transaction, no swap change');
  // systemd's own record: no unit (re)started or stopped, no daemon-reload, during the run
  const pid1 = (await node.exec(['journalctl', `--after-cursor=${cursor}`, '_PID=1', '-o', 'cat', '--no-pager'])).stdout;
  assert.deepEqual(pid1.split('\n').filter((l) => /^(Start|Stopp|Reload|Restart)/.test(l) || /containerd|kubelet/.test(l)), [], `systemd saw no unit change:\n${pid1}`);
}, () => w?.node);
