// `npm run demo`: boots a disposable Debian 12 node next to a simulated control plane,
// a signed apt repository and a registry (all on a private /30 link in 198.18.0.0/15), runs
// scenario 1 live with the agent's own progress output, prints /status, and removes
// everything on exit or Ctrl-C.
import { existsSync } from 'node:fs';
import readline from 'node:readline';
import { ensureBinary, statusInNode, waitForStatus } from './harness/agent.js';
import { cleanupAll } from './harness/cleanup.js';
import { linkFor } from './harness/paths.js';
import { sh } from './harness/sh.js';
import { startWorld } from './harness/world.js';

const NEEDED: Record<string, string> = {
  debootstrap: '/usr/sbin/debootstrap',
  'systemd-container': '/usr/bin/systemd-nspawn',
  'docker-registry': '/usr/bin/docker-registry',
  umoci: '/usr/bin/umoci',
  skopeo: '/usr/bin/skopeo',
  'busybox-static': '/bin/busybox',
  'dpkg-dev': '/usr/bin/dpkg-scanpackages',
  gnupg: '/usr/bin/gpg',
  nftables: '/usr/sbin/nft',
  iproute2: '/usr/sbin/ip',
  openssl: '/usr/bin/openssl',
};
const bold = (t: string): string => (process.stdout.isTTY ? `\x1b[1m${t}\x1b[0m` : t);
const say = (m: string): void => console.log(`${bold('demo:')} ${m}`);

async function main(): Promise<void> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('the demo boots a systemd-nspawn node: run it as root on Linux (sudo npm run demo)');
  await installMissing();
  await ensureBinary(say);
  say(`starting a signed apt repository, a registry and a simulated control plane on ${linkFor(9).host}, and booting a fresh Debian 12 node (first time: ~1 minute to build its root filesystem)`);
  const w = await startWorld({ slot: 9, log: say });
  const { node } = w;
  say(`node ${node.name} is up (${node.link.node}); copying dist/joinagent and a config into it, like scp`);
  await node.copyIn((await import('./harness/paths.js')).binary, '/root/joinagent', 0o755);
  await node.writeFile('/root/joinagent.yaml', w.config, 0o600);
  say('running: joinagent run --once --config /root/joinagent.yaml --log-format pretty\n');
  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', '/root/joinagent.yaml', '--log-format', 'pretty'], { inherit: true, allowFailure: true, timeoutMs: 15 * 60_000 });
  console.log('');
  say(`joinagent run --once exited ${r.exitCode}${r.exitCode === 0 ? ' (joined)' : ' (failed: see above)'}`);
  await node.exec(['systemd-run', '--quiet', '--unit=joinagent-demo', '/root/joinagent', 'run', '--config', '/root/joinagent.yaml']);
  await waitForStatus(node, 'the agent serving', () => true, 60_000).catch(() => undefined);
  say('curl 127.0.0.1:9797/status inside the node:');
  console.log(JSON.stringify(await statusInNode(node).catch((e: Error) => ({ error: e.message })), null, 2));
  console.log(`
Look around inside the node (another terminal, as root):
  nsenter -t ${node.pid1} -a /bin/bash -l
  then e.g.: joinagent status; systemctl status kubelet containerd; ctr -n k8s.io images ls; cat /etc/hosts
`);
  if (process.stdin.isTTY) {
    say('the node stays up for you: press Enter (or Ctrl-C) to stop it and remove everything');
    await new Promise<void>((resolve) => readline.createInterface({ input: process.stdin }).once('line', () => resolve()));
  } else {
    say('stdin is not a terminal: not waiting');
  }
  process.exitCode = r.exitCode === 0 ? 0 : 1;
}

// A fresh Debian/Ubuntu machine lacks the node-building tools: say what and why, then apt.
async function installMissing(): Promise<void> {
  const missing = Object.entries(NEEDED).filter(([, bin]) => !existsSync(bin)).map(([pkg]) => pkg);
  if (!missing.length) return;
  say(`installing ${missing.join(', ')} with apt-get (needed to build and boot a throwaway node, its package repository and registry)`);
  await sh('apt-get', ['update', '-qq'], { inherit: true });
  await sh('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { inherit: true, env: { DEBIAN_FRONTEND: 'noninteractive' } });
}

main()
  .catch((e: Error) => {
    console.error(`demo: ${e.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    say('cleaning up (node, link, repository, registry, control plane)');
    await cleanupAll();
    process.exit();
  });
