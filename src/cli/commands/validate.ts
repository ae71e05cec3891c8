import { print } from '../output.js';
import type { Command } from 'commander';
import { joinedOnDisk } from '../../join/local.js';
import { globals, loadOrExit } from '../globals.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check the config file only: every problem with file:line:col and field path (exit 2)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      // as `run` judges it: a joined node needs no token (join-cleanup removed join.tokenFile),
      // so a config change on a joined node (a new kubernetesVersion) still validates there
      const { config } = await loadOrExit(g, { requireToken: !(await joinedOnDisk(g.root)) });
      const j = config.join;
      const d = j.discovery;
      const trust = d?.kind === 'file' ? `discovery file ${d.kubeConfigPath}` : `${j.caCertHashes.length} CA pin${j.caCertHashes.length === 1 ? '' : 's'}`;
      print(
        `${g.config}: valid (Kubernetes ${config.agent.kubernetesVersion}, API server ${j.apiServerEndpoint || '(from the discovery URL)'}, ` +
          `token ${config.tokenSource === 'none' ? 'not set' : `from ${config.tokenSource}`}, ${trust})\n`,
      );
    });
}
