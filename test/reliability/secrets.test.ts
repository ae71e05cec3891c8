import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ensureBinary } from '../e2e/harness/agent.js';
import { assertJoined } from '../e2e/harness/assertions.js';
import { cleanupAll } from '../e2e/harness/cleanup.js';
import { sh } from '../e2e/harness/sh.js';
import { startWorld, type World } from '../e2e/harness/world.js';
import { CONFIG } from './lib/agent-in-node.js';

// Secrets: a full run with a known token; its secret half must appear in no log (journal,
// stdout/stderr), not in /status or /metrics, in no file on the node but the 0600 config,
// and in no process's argv, sampled inside the node as fast as a shell can during the run.
// One known exception, not joinagent's: the e2e stand-in kubeadm hands the secret to
// `openssl dgst -mac HMAC -macopt key:...` to check the JWS (openssl has no way to read a
// MAC key from a file or stdin); that command line is reported and excluded by name.
const SLOT = 131;
let w: World | undefined;
const NEEDLE = '/run/ja-needle'; // the secret for grep -f, on a tmpfs the file scan skips
const STANDIN_OPENSSL = /^openssl dgst -sha256 -mac HMAC -macopt key:/;

before(async () => {
  const binary = await ensureBinary();
  w = await startWorld({ slot: SLOT });
  await w.node.copyIn(binary, '/usr/local/bin/joinagent', 0o755);
  await w.node.writeFile(CONFIG, w.config, 0o600);
});
after(cleanupAll);

test('the bootstrap token secret appears in no log, endpoint, file or command line', { timeout: 10 * 60_000 }, async () => {
  const { node } = w!;
  const secret = w!.token.split('.')[1]!;
  await node.sh(`umask 077; printf '%s\\n' "$(cat)" > ${NEEDLE}`, { input: secret });
  // argv sampler: grep's own command line holds only the needle's path
  await node.exec(['systemd-run', '--unit=ja-argv-sampler', '--quiet', 'sh', '-c', `while [ ! -e /run/ja-stop ]; do for f in $(grep -lsF -f ${NEEDLE} /proc/[0-9]*/cmdline); do tr '\\0' ' ' < $f; echo; done >> /run/ja-argv-hits; done`]);
  // positive control: a process with the secret as its argv[0] must be seen by the sampler
  await node.sh(`sh -c 'sleep 1.5' "$(cat ${NEEDLE})"`);
  const run = await node.exec(['/usr/local/bin/joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 8 * 60_000 });
  await node.exec(['touch', '/run/ja-stop']);
  assert.equal(run.exitCode, 0, `run --once exited ${run.exitCode}:\n${run.stderr.split('\n').slice(-20).join('\n')}`);
  await assertJoined(w!);

  const all = (await node.exec(['cat', '/run/ja-argv-hits'], { allowFailure: true })).stdout.split('\n').filter(Boolean);
  const control = (h: string): boolean => h.startsWith(`sh -c sleep 1.5 ${secret}`);
  assert.ok(all.some(control), `the argv sampler works: it saw the control process (${all.length} hits)`);
  // grep matched a cmdline, then tr read it again: a process that exec()ed in between
  // (the control's sh becoming sleep) shows a line without the secret, which is no leak
  const hits = all.filter((h) => !control(h) && h.includes(secret));
  const standin = hits.filter((h) => STANDIN_OPENSSL.test(h));
  const leaks = hits.filter((h) => !STANDIN_OPENSSL.test(h));
  console.log(`# argv samples with the secret: ${hits.length} (${standin.length} from the stand-in kubeadm's openssl, excluded)`);
  assert.deepEqual(leaks, [], 'no other process had the secret on its command line');

  // a daemon run to read /status and /metrics, plus every command's output
  await node.exec(['systemd-run', '--unit=ja-secrets-daemon', '--quiet', '/usr/local/bin/joinagent', 'run', '--config', CONFIG, '--log-format', 'json']);
  let status = '';
  for (let i = 0; i < 100 && !/"ready": true/.test(status); i++) {
    status = (await node.exec(['curl', '-sS', '--max-time', '2', 'http://127.0.0.1:9797/status'], { allowFailure: true })).stdout;
    await new Promise((r) => setTimeout(r, 300));
  }
  const metrics = (await node.exec(['curl', '-sS', '--max-time', '5', 'http://127.0.0.1:9797/metrics'], { allowFailure: true })).stdout;
  assert.match(metrics, /joinagent_ready 1/, '/metrics served');
  const outputs = [
    ['run --once stdout/stderr', run.stdout + run.stderr],
    ['/status', status],
    ['/metrics', metrics],
    ['joinagent status', (await node.exec(['/usr/local/bin/joinagent', 'status'], { allowFailure: true })).stdout],
    ['joinagent diagnose', JSON.stringify(await node.exec(['/usr/local/bin/joinagent', 'diagnose', '--config', CONFIG], { allowFailure: true }))],
    ['joinagent plan', JSON.stringify(await node.exec(['/usr/local/bin/joinagent', 'plan', '--config', CONFIG], { allowFailure: true }))],
    ['the whole journal', (await node.exec(['journalctl', '--no-pager', '-o', 'cat'], { allowFailure: true })).stdout],
  ] as const;
  for (const [what, text] of outputs) assert.ok(!text.includes(secret), `the secret appears in ${what}`);

  // every file in the node's tree (host view: no /proc, /sys or /run tmpfs), but the config
  const needle = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'ja-needle-')), 'n');
  await fs.writeFile(needle, `${secret}\n`, { mode: 0o600 });
  const g = await sh('grep', ['-rlsF', '-D', 'skip', '-f', needle, node.root], { allowFailure: true, timeoutMs: 5 * 60_000 });
  await fs.rm(path.dirname(needle), { recursive: true, force: true });
  const files = g.stdout.split('\n').filter(Boolean).map((f) => f.slice(node.root.length));
  const allowed = [CONFIG];
  for (const f of files.filter((x) => allowed.includes(x))) assert.equal((await fs.stat(node.hostPath(f))).mode & 0o077, 0, `${f} holds the token, so it must be 0600`);
  assert.deepEqual(files.filter((f) => !allowed.includes(f)), [], 'the secret is in no other file on the node');
});
