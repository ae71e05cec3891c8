import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { diffHashes, ensureBinary, hashEtc } from '../harness/agent.js';
import { assertJoined } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { Node } from '../harness/node.js';
import { linkFor } from '../harness/paths.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// A golden image whose maker did not empty /etc/machine-id (issue 16, kubernetes/kubeadm#31):
// the builder runs `joinagent prepare`, which records its identity; a node booted from a
// copy of its root filesystem (another host name; no DMI in these nodes, so the host name
// is what differs) keeps the builder's machine-id. Its `joinagent run` is refused before
// anything changes, naming what happened and the fix; after the fix it joins. The builder
// itself, booted again, is not refused.
const BUILDER = 33;
const COPY = 34;
const CONFIG = '/root/joinagent.yaml';
let w: World | undefined;
let copy: Node | undefined;
let builderId = '';

before(async () => {
  const binary = await ensureBinary(log);
  w = await startWorld({ slot: BUILDER, log });
  await w.node.copyIn(binary, '/usr/local/bin/joinagent', 0o755);
  await w.node.writeFile(CONFIG, w.config, 0o600);
});
after(cleanupAll);

const run = (n: Node) => n.exec(['joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'pretty'], { allowFailure: true, timeoutMs: 10 * 60_000 });
const record = async (n: Node): Promise<{ machineId: string; hostname: string; by: string }> => JSON.parse(await fs.readFile(n.hostPath('/var/lib/joinagent/identity.json'), 'utf8')) as { machineId: string; hostname: string; by: string };

scenario('golden image: prepare records the builder\'s machine identity', async () => {
  const b = w!.node;
  const r = await b.exec(['joinagent', 'prepare', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 15 * 60_000 });
  assert.equal(r.exitCode, 0, `prepare:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  builderId = (await b.exec(['cat', '/etc/machine-id'])).stdout.trim();
  assert.match(builderId, /^[0-9a-f]{32}$/);
  const rec = await record(b);
  assert.deepEqual({ machineId: rec.machineId, hostname: rec.hostname, by: rec.by }, { machineId: builderId, hostname: `worker-${BUILDER}`, by: 'prepare' });
}, () => w?.node);

scenario('golden image: a copy that kept the builder\'s machine-id is refused before anything changes; with its own id it joins', async () => {
  assert.ok(builderId, 'the builder was prepared');
  const b = w!.node;
  await b.stop();
  // the image as a careless maker leaves it: the builder's id on disk (systemd may have
  // kept it on a tmpfs over the empty file the harness's root came with)
  await fs.writeFile(b.hostPath('/etc/machine-id'), `${builderId}\n`);
  copy = await Node.create({
    slot: COPY,
    rootfs: b.root,
    log,
    // the copy's own link reaches the builder's services through one more host route
    beforeBoot: (root) => fs.appendFile(path.join(root, 'etc/systemd/network/10-joinagent-e2e.network'), `\n[Route]\nDestination=${linkFor(BUILDER).host}/32\n`),
  });
  assert.equal((await copy.exec(['cat', '/etc/machine-id'])).stdout.trim(), builderId, 'the copy booted with the builder\'s machine-id');
  assert.equal((await copy.exec(['hostname'])).stdout.trim(), `worker-${COPY}`);

  const etc = await hashEtc(copy);
  const refused = await run(copy);
  const out = `${refused.stdout}\n${refused.stderr}`;
  assert.equal(refused.exitCode, 1, `run --once refuses (exit 1):\n${out}`);
  assert.match(out, new RegExp(`machine identity: /etc/machine-id ${builderId} is the one \`joinagent prepare\` recorded at \\S+ on "worker-${BUILDER}", but this machine has host name "worker-${COPY}", not "worker-${BUILDER}".*a copy of that image sharing its machine-id`));
  assert.match(out, /systemd-id128 new > \/etc\/machine-id`, reboot, and run joinagent again/, 'the fix is named');
  assert.deepEqual(diffHashes(etc, await hashEtc(copy)), [], 'nothing under /etc changed');
  assert.equal((await copy.exec(['test', '-e', '/etc/kubernetes/kubelet.conf'], { allowFailure: true })).exitCode, 1, 'kubeadm never ran');
  assert.equal((await record(copy)).hostname, `worker-${BUILDER}`, 'the builder\'s record is left as it was');

  // the fix the message names
  await copy.sh('systemd-id128 new > /etc/machine-id');
  await copy.reboot();
  const own = (await copy.exec(['cat', '/etc/machine-id'])).stdout.trim();
  assert.match(own, /^[0-9a-f]{32}$/);
  assert.notEqual(own, builderId);
  const joined = await run(copy);
  assert.equal(joined.exitCode, 0, `run --once after the fix:\n${joined.stdout.slice(-3000)}\n${joined.stderr.slice(-3000)}`);
  assert.deepEqual(await record(copy).then((r) => [r.machineId, r.hostname, r.by]), [own, `worker-${COPY}`, 'run'], 'the copy recorded its own identity');
  await assertJoined({ node: copy, cp: w!.cp });
}, () => copy ?? w?.node);

scenario('golden image: the builder itself (same machine-id, same name) is not refused: it joins', async () => {
  const b = w!.node;
  await b.boot();
  assert.equal((await b.exec(['cat', '/etc/machine-id'])).stdout.trim(), builderId);
  const r = await run(b);
  assert.equal(r.exitCode, 0, `run --once on the builder:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout + r.stderr, /machine-identity.*recorded by prepare/);
  await assertJoined(w!);
}, () => w?.node);
