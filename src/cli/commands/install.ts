import { print } from '../output.js';
import path from 'node:path';
import type { Command } from 'commander';
import { hostFiles } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import { hostProc } from '../../host/proc.js';
import { install, type Outcome } from '../../install/install.js';
import { uninstall } from '../../install/uninstall.js';
import { unitText } from '../../install/unit-text.js';
import { CliExit, EXIT } from '../exit.js';
import { globals, loadOrExit } from '../globals.js';

export function registerInstall(program: Command): void {
  program
    .command('install')
    .description(`install this binary as ${paths.binary}, the systemd unit and the config (0600), and enable the unit`)
    .option('--now', 'also start the agent (without waiting: follow it with `joinagent status --wait`)')
    .option('--binary <file>', 'install this binary instead of the running one')
    .action(async (o: { now?: boolean; binary?: string }, cmd: Command) => {
      const g = globals(cmd);
      const { config } = await loadOrExit(g, { requireToken: false });
      const src = hostFiles('/', true);
      const files = hostFiles(g.root);
      const packaged = (await Promise.all(paths.packageUnits.map((p) => files.exists(p)))).some(Boolean);
      // files outside --root are read through a read-only view of / (relative to the cwd)
      const binaryPath = packaged ? undefined : path.resolve(o.binary ?? (await runningBinary()));
      const configPath = path.resolve(g.config);
      const binary = binaryPath ? await src.readBytes(binaryPath) : undefined;
      if (binaryPath && !binary) throw new CliExit(EXIT.usage, `joinagent: --binary ${binaryPath}: no such file`);
      const r = await install(files, hostProc(), { binary: binary ?? undefined, unitText: await unitText(), configPath, config: (await src.readBytes(configPath))!, now: Boolean(o.now) });
      if (config.tokenSource === 'none') r.notes.push('the config names no bootstrap token: the agent fails and restarts until one is given (inline, join.tokenFile, or LoadCredential=join-token in the unit)');
      report('install', r, o.now ? 'follow the join: joinagent status --wait (or journalctl -u joinagent -f)' : 'start it: systemctl start --no-block joinagent');
    });
  program
    .command('uninstall')
    .description('stop and disable the unit, remove it and the binary (the node stays joined)')
    .option('--purge', `also remove ${paths.config}, ${paths.tokenFile} and ${paths.defaults}`)
    .action(async (o: { purge?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      report('uninstall', await uninstall(hostFiles(g.root), hostProc(), { purge: Boolean(o.purge) }));
    });
}

// The binary to copy: the running single binary. Under Node (tsx, during development)
// there is no such file, and copying node itself would install the wrong thing.
async function runningBinary(): Promise<string> {
  const sea = await import('node:sea').then((m) => m.isSea(), () => false);
  if (sea) return process.execPath;
  throw new CliExit(EXIT.usage, `joinagent: install copies the running single binary, but this is Node.js running the sources (${process.execPath}): build it (bash build.sh) and run dist/joinagent install, or pass --binary dist/joinagent`);
}

// One line per action, then a summary whose wording scripts can rely on ("nothing to do").
function report(verb: string, r: Outcome, next?: string): void {
  const lines = [...r.actions, ...r.notes.map((n) => `note: ${n}`)];
  lines.push(r.actions.length ? `${verb}: done (${r.actions.length} change${r.actions.length === 1 ? '' : 's'})${next ? `; ${next}` : ''}` : `${verb}: nothing to do${verb === 'install' ? ': already installed' : ': not installed'}`);
  print(lines.join('\n') + '\n');
}
