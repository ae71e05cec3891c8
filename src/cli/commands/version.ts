import type { Command } from 'commander';
import { COMMIT, VERSION } from '../../version.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version')
    .option('--json', 'machine-readable')
    .action((o: { json?: boolean }) => {
      if (o.json) process.stdout.write(JSON.stringify({ version: VERSION, commit: COMMIT, node: process.version }) + '\n');
      else process.stdout.write(`joinagent ${VERSION} (${COMMIT}, node ${process.version})\n`);
    });
}
