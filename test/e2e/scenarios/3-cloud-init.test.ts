import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { ensureBinary, waitForStatus } from '../harness/agent.js';
import { assertHostPrepared, assertJoined, assertRuntimeReady } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { metaData, userDataFromExample } from '../harness/cloudinit.js';
import { serveDir, type StaticServer } from '../harness/http.js';
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
    beforeBoot: async (root, parts) => {
      files = await serveDir(path.dirname(binary), `198.18.${SLOT}.1`, 8081, '/releases/');
      const seed = path.join(root, 'var/lib/cloud/seed/nocloud');
      await fs.mkdir(seed, { recursive: true });
      await fs.writeFile(path.join(seed, 'user-data'), await userDataFromExample({ config: parts.config, token: parts.token, binaryUrl: `${files.url}joinagent`, hostname: `worker-${SLOT}` }));
      await fs.writeFile(path.join(seed, 'meta-data'), metaData(`worker-${SLOT}`));
      await fs.rm(path.join(root, 'etc/cloud/cloud-init.disabled'));
    },
  });
});
after(cleanupAll);
after(async () => files?.close());

scenario('scenario 3: cloud-init NoCloud seed joins at first boot, no manual step', async () => {
  const { node } = w!;
  const s = await waitForStatus(node, 'joined from first boot', (d) => d.ready && d.joined, 8 * 60_000);
  assert.ok(s.steps.every((x) => x.state === 'ok' || x.state === 'changed' || x.state === 'skipped'), s.steps.map((x) => `${x.id}=${x.state}`).join(' '));
  const ci = await node.exec(['cloud-init', 'status', '--wait'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.match(ci.stdout, /status: done/, `cloud-init finished without errors:\n${ci.stdout}${ci.stderr}`);
  assert.equal((await node.exec(['systemctl', 'is-enabled', 'joinagent'], { allowFailure: true })).stdout.trim(), 'enabled');
  await assertHostPrepared(node);
  await assertRuntimeReady(node);
  await assertJoined(w!);
}, () => w?.node);
