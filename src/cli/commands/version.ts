import { print } from '../output.js';
import type { Command } from 'commander';
import { COMMIT, VERSION } from '../../version.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version')
    .option('--json', 'machine-readable')
    .action((o: { json?: boolean }) => {
      if (o.json) print(JSON.stringify({ version: VERSION, commit: COMMIT, node: process.version, codeCache: codeCacheState() }) + '\n');
      else print(`joinagent ${VERSION} (${COMMIT}, node ${process.version})\n`);
    });
}

// What the SEA loader (packaging/sea/run-bundle.cjs) did with the build's V8 code cache:
// 'used', 'rejected' (another Node build or other V8 flags), 'none'; 'not-sea' under tsx.
function codeCacheState(): string {
  return ((globalThis as Record<symbol, unknown>)[Symbol.for('joinagent.codeCache')] as string | undefined) ?? 'not-sea';
}
