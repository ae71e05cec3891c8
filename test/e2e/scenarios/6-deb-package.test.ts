import assert from 'node:assert/strict';
import { promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { ensureBinary } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { repoRoot } from '../harness/paths.js';
import { log, scenario } from '../harness/scenario.js';
import { sh } from '../harness/sh.js';
import { assertUnattendedJoinSurvivesReboot } from '../harness/unattended.js';
import { startWorld, type World } from '../harness/world.js';

let w: World | undefined;

before(async () => {
  w = await startWorld({ slot: 6, log, tokenFile: '/etc/joinagent/token' });
});
after(cleanupAll);

// The .deb that `bash build.sh packages` makes (CI has just run it: reused when it is
// newer than an up-to-date binary, else built here).
async function buildDeb(): Promise<string> {
  const bin = await ensureBinary(log);
  const dist = path.join(repoRoot, 'dist');
  const find = async (): Promise<string[]> => (await fs.readdir(dist)).filter((f) => /^joinagent_.*_amd64\.deb$/.test(f)).map((f) => path.join(dist, f));
  const debs = await find();
  if (debs.length !== 1 || statSync(debs[0]!).mtimeMs < statSync(bin).mtimeMs) {
    log('building the packages (bash build.sh packages)');
    for (const d of debs) await fs.rm(d);
    await sh('bash', ['build.sh', 'packages'], { cwd: repoRoot, timeoutMs: 5 * 60_000 });
  }
  const built = await find();
  if (built.length !== 1) throw new Error(`expected one joinagent .deb in dist/, found: ${built.join(', ') || 'none'}`);
  return built[0]!;
}

scenario('scenario 6: install the .deb from build.sh with dpkg, then the systemd checks across a reboot', async () => {
  const { node } = w!;
  const deb = await buildDeb();
  const inNode = `/root/${path.basename(deb)}`;
  await node.copyIn(deb, inNode);
  const r = await node.exec(['dpkg', '-i', inNode], { allowFailure: true, env: { DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 120_000 });
  assert.equal(r.exitCode, 0, `dpkg -i of the .deb exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  assert.equal((await node.exec(['dpkg-query', '-W', '-f', '${Status}', 'joinagent'])).stdout, 'install ok installed');
  assert.equal((await node.exec(['systemctl', 'is-enabled', 'joinagent'], { allowFailure: true })).stdout.trim(), 'disabled', 'the package alone does not enable the agent (it needs a config first)');
  // then what the package's description says: write the config, `joinagent install --now`
  await node.writeFile('/etc/joinagent/config.yaml', w!.config, 0o600);
  await node.writeFile('/etc/joinagent/token', `${w!.token}\n`, 0o600);
  const inst = await node.exec(['joinagent', 'install', '--now'], { allowFailure: true, timeoutMs: 60_000 });
  assert.equal(inst.exitCode, 0, `joinagent install --now exited ${inst.exitCode}:\n${inst.stdout}\n${inst.stderr}`);
  assert.equal((await node.exec(['test', '-e', '/usr/local/bin/joinagent'], { allowFailure: true })).exitCode, 1, 'install uses the packaged /usr/bin/joinagent, no copy in /usr/local');
  assert.equal((await node.exec(['test', '-e', '/etc/systemd/system/joinagent.service'], { allowFailure: true })).exitCode, 1, 'install uses the packaged unit');
  assert.match((await node.exec(['systemctl', 'show', 'joinagent', '-p', 'ExecStart'])).stdout, /path=\/usr\/bin\/joinagent /);
  await assertUnattendedJoinSurvivesReboot(w!);
}, () => w?.node);
