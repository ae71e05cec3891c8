import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
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

// The .deb that build.sh makes, installed with the system package manager.
async function buildDeb(): Promise<string> {
  if (!existsSync(path.join(repoRoot, 'packaging/build-packages.sh'))) throw new Error('packaging/build-packages.sh (daemon branch) has not landed: no .deb to install yet');
  await sh('bash', ['build.sh', 'packages'], { cwd: repoRoot, timeoutMs: 5 * 60_000 });
  const dist = path.join(repoRoot, 'dist');
  const debs = (await fs.readdir(dist, { recursive: true })).filter((f) => f.endsWith('.deb'));
  if (debs.length !== 1) throw new Error(`expected one .deb under dist/, found: ${debs.join(', ') || 'none'}`);
  return path.join(dist, debs[0]!);
}

scenario('scenario 6: install the .deb from build.sh, then the systemd checks across a reboot', async () => {
  const { node } = w!;
  const deb = await buildDeb();
  await node.copyIn(deb, `/root/${path.basename(deb)}`);
  const r = await node.exec(['apt-get', 'install', '-y', `/root/${path.basename(deb)}`], { allowFailure: true, env: { DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 120_000 });
  assert.equal(r.exitCode, 0, `apt-get install of the .deb exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  assert.equal((await node.exec(['dpkg-query', '-W', '-f', '${Status}', 'joinagent'])).stdout, 'install ok installed');
  await node.writeFile('/etc/joinagent/config.yaml', w!.config, 0o600);
  await node.writeFile('/etc/joinagent/token', `${w!.token}\n`, 0o600);
  await node.exec(['systemctl', 'enable', '--now', 'joinagent.service']);
  await assertUnattendedJoinSurvivesReboot(w!);
}, () => w?.node);
