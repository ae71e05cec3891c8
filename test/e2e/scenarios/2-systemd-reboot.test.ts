import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { log, scenario } from '../harness/scenario.js';
import { assertUnattendedJoinSurvivesReboot } from '../harness/unattended.js';
import { startWorld, type World } from '../harness/world.js';

let w: World | undefined;
let binary = '';

before(async () => {
  binary = await ensureBinary(log);
  w = await startWorld({ slot: 2, log, tokenFile: '/etc/joinagent/token' });
});
after(cleanupAll);

scenario('scenario 2: joinagent install --now joins unattended, and the node survives a reboot', async () => {
  const { node } = w!;
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile('/root/joinagent.yaml', w!.config, 0o600);
  await node.writeFile('/etc/joinagent/token', `${w!.token}\n`, 0o600);
  const t = Date.now();
  const r = await node.exec(['/root/joinagent', 'install', '--now', '--config', '/root/joinagent.yaml'], { allowFailure: true, timeoutMs: 60_000 });
  assert.equal(r.exitCode, 0, `install --now exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  assert.ok(Date.now() - t < 30_000, 'install --now does not block on the join');
  assert.equal((await node.exec(['stat', '-c', '%a', '/etc/joinagent/config.yaml'])).stdout.trim(), '600');
  assert.equal((await node.exec(['test', '-x', '/usr/local/bin/joinagent'], { allowFailure: true })).exitCode, 0);
  await assertUnattendedJoinSurvivesReboot(w!);
}, () => w?.node);
