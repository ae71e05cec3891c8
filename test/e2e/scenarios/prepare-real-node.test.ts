import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { churnWitness, diffHashes, ensureBinary, hashEtc } from '../harness/agent.js';
import { assertHostPrepared, assertRuntimeReady } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// Issue 3's real-node check: `joinagent prepare` converges a booted Debian 12 node with
// an active swap file against the signed test repository; a second run changes nothing.
let w: World | undefined;
let binary = '';
const SWAP = '/swapfile';
const CONFIG = '/root/joinagent.yaml';

before(async () => {
  binary = await ensureBinary(log);
  w = await startWorld({ slot: 7, log, controlPlane: false });
});
after(cleanupAll);

scenario('prepare on a real node, twice: the second run changes nothing', async () => {
  const { node } = w!;
  await node.sh(`fallocate -l 16M ${SWAP} && chmod 600 ${SWAP} && mkswap ${SWAP} >/dev/null && swapon ${SWAP} && echo '${SWAP} none swap sw 0 0' >> /etc/fstab`);
  assert.match((await node.exec(['cat', '/proc/swaps'])).stdout, /swapfile/, 'swap active before prepare');
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, w!.config, 0o600);

  const first = await node.exec(['/root/joinagent', 'prepare', '--config', CONFIG], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(first.exitCode, 0, `prepare exited ${first.exitCode}:\n${first.stdout}\n${first.stderr}`);
  await assertHostPrepared(node, { swapFile: SWAP });
  await assertRuntimeReady(node);

  const etc = await hashEtc(node);
  const churn = await churnWitness(node);
  const second = await node.exec(['/root/joinagent', 'prepare', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(second.exitCode, 0, `second prepare exited ${second.exitCode}:\n${second.stdout}\n${second.stderr}`);
  const ends = (second.stdout + '\n' + second.stderr).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string; step?: string; state?: string }).filter((e) => e.event === 'step-end');
  assert.ok(ends.length > 0, 'the second run reported its steps');
  assert.deepEqual(ends.filter((e) => e.state !== 'ok' && e.state !== 'skipped').map((e) => `${e.step}=${e.state}`), [], 'every step ok (or skipped: nothing to manage) on the second run');
  assert.deepEqual(diffHashes(etc, await hashEtc(node)), [], 'every file under /etc hashes the same');
  assert.deepEqual(await churnWitness(node), churn, 'no restart, no package transaction');

  const plan = await node.exec(['/root/joinagent', 'plan', '--prepare', '--config', CONFIG], { allowFailure: true });
  assert.equal(plan.exitCode, 0, `plan --prepare exited ${plan.exitCode}:\n${plan.stdout}${plan.stderr}`);
  assert.match(plan.stdout, /plan: everything is ok/, `plan on a prepared node is all ok:\n${plan.stdout}`);
}, () => w?.node);
