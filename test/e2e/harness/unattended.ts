import assert from 'node:assert/strict';
import { httpCodeInNode, statusInNode, waitForStatus, waitUnitActive } from './agent.js';
import { assertHostPrepared, assertJoined, assertPublishedNode, assertRuntimeReady, assertTokenNotLeaked } from './assertions.js';
import { waitFor } from './sh.js';
import type { World } from './world.js';

// Scenario 2's checks, shared with the .deb scenario: the unit joins with no other
// command, is enabled, reports ready to systemd; after a reboot the agent converges
// with zero changes, /readyz is 200 and `joinagent status` exits 0.
export async function assertUnattendedJoinSurvivesReboot(w: World): Promise<void> {
  const { node } = w;
  assert.equal((await node.exec(['systemctl', 'is-enabled', 'joinagent'], { allowFailure: true })).stdout.trim(), 'enabled');
  const wait = await node.exec(['joinagent', 'status', '--wait', '--timeout', '8m'], { allowFailure: true, timeoutMs: 9 * 60_000 });
  assert.equal(wait.exitCode, 0, `joinagent status --wait exited ${wait.exitCode}:\n${wait.stdout}\n${wait.stderr}`);
  await assertHostPrepared(node);
  await assertRuntimeReady(node);
  await assertJoined(w);
  await waitUnitActive(node);
  await assertPublishedNode(w, await statusInNode(node));
  // Type=notify is READY only once joined: the boot must not wait for that (cloud-final
  // runs after multi-user.target and may be what provides the config)
  const after = (await node.exec(['systemctl', 'list-dependencies', '--after', '--plain', '--no-pager', 'multi-user.target'])).stdout;
  assert.doesNotMatch(after, /joinagent/, `multi-user.target is not ordered after joinagent.service:\n${after}`);

  const bootsBefore = node.boots;
  await node.reboot();
  assert.equal(node.boots, bootsBefore + 1);
  await waitFor('/readyz 200 after the reboot', async () => ((await httpCodeInNode(node, '/readyz')) === 200 ? true : undefined), 5 * 60_000, 1000);
  const s = await waitForStatus(node, 'ready after reboot', (d) => d.ready, 60_000);
  const changed = s.steps.filter((x) => !['ok', 'skipped'].includes(x.state) || (x.changes?.length ?? 0) > 0);
  assert.deepEqual(changed.map((x) => `${x.id}=${x.state}${x.changes?.length ? ` (${x.changes.join('; ')})` : ''}`), [], 'after reboot every step is ok with zero changes');
  await assertJoined(w);
  await assertPublishedNode(w, s);
  await waitUnitActive(node);
  const st = await node.exec(['joinagent', 'status'], { allowFailure: true });
  assert.equal(st.exitCode, 0, `joinagent status exited ${st.exitCode}:\n${st.stdout}${st.stderr}`);
  await assertTokenNotLeaked(node, w.token, [JSON.stringify(await statusInNode(node)), st.stdout, (await node.exec(['journalctl', '-u', 'joinagent', '--no-pager'])).stdout]);
}
