import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { ensureBinary, waitForStatus } from '../harness/agent.js';
import { assertHostPrepared, assertJoined, assertPublishedNode, assertRuntimeReady, assertTokenNotLeaked } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { metaData, userDataFromExample } from '../harness/cloudinit.js';
import { serveDir, type StaticServer } from '../harness/http.js';
import { linkFor } from '../harness/paths.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// A fresh node with Debian's cloud-init and a NoCloud seed made from the packaging
// example: it must join at first boot with no manual step.
const SLOT = 3;
let w: World | undefined;
let files: StaticServer | undefined;

before(async () => {
  const binary = await ensureBinary(log);
  w = await startWorld({
    slot: SLOT,
    variant: 'cloud-init',
    log,
    // the example's config reads the token from this file, which the example also writes
    tokenFile: '/etc/joinagent/token',
    beforeBoot: async (root, parts) => {
      files = await serveDir(path.dirname(binary), linkFor(SLOT).host, 8081, '/releases/');
      const seed = path.join(root, 'var/lib/cloud/seed/nocloud');
      await fs.mkdir(seed, { recursive: true });
      await fs.writeFile(path.join(seed, 'user-data'), await userDataFromExample({ config: parts.config, token: parts.token, binaryUrl: `${files.url}joinagent`, binaryPath: binary }));
      await fs.writeFile(path.join(seed, 'meta-data'), metaData(`worker-${SLOT}`));
      await fs.rm(path.join(root, 'etc/cloud/cloud-init.disabled'));
    },
  });
});
after(cleanupAll);
after(async () => files?.close());

scenario('scenario 3: cloud-init NoCloud seed joins at first boot, no manual step', async () => {
  const { node } = w!;
  // cloud-init first: its runcmd downloads the binary and runs `install --now`
  const ci = await node.exec(['cloud-init', 'status', '--wait', '--long'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  if (!/status: done/.test(ci.stdout)) {
    const out = await node.exec(['tail', '-n', '40', '/var/log/cloud-init-output.log'], { allowFailure: true });
    assert.fail(`cloud-init did not finish cleanly:\n${ci.stdout}${ci.stderr}\n--- cloud-init-output.log:\n${out.stdout}`);
  }
  assert.ok(files!.requests.includes('/releases/joinagent'), 'the runcmd downloaded the binary from the artifact server');
  assert.equal((await node.exec(['systemctl', 'is-enabled', 'joinagent'], { allowFailure: true })).stdout.trim(), 'enabled');
  const s = await waitForStatus(node, 'joined from first boot', (d) => d.ready && d.joined, 5 * 60_000);
  assert.deepEqual(s.steps.filter((x) => !['ok', 'changed', 'skipped'].includes(x.state)).map((x) => `${x.id}=${x.state}`), [], 'every step ok, changed or skipped');
  assert.equal(node.boots, 1, 'joined within the first boot');
  await assertHostPrepared(node);
  await assertRuntimeReady(node);
  await assertJoined(w!);
  await assertPublishedNode(w!, s);
  assert.equal((await node.exec(['stat', '-c', '%a', '/etc/joinagent/config.yaml'])).stdout.trim(), '600', 'config 0600, as the example writes it');
  assert.equal((await node.exec(['test', '-e', '/etc/joinagent/token'], { allowFailure: true })).exitCode, 1, 'the token file is removed once joined (join-cleanup)');
  await assertTokenNotLeaked(node, w!.token, [JSON.stringify(s), (await node.exec(['journalctl', '-u', 'joinagent', '--no-pager'])).stdout]);
}, () => w?.node);
