import { printErr } from './output.js';
import { CommanderError } from 'commander';
import { CliExit, EXIT } from './exit.js';
import { buildProgram } from './program.js';

// The CLI entry: sets process.exitCode rather than exiting, so pending output flushes.
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CliExit) {
      if (e.message) printErr(e.message.endsWith('\n') ? e.message : `${e.message}\n`);
      return e.code;
    }
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // an unexpected error: one line, no stack (JOINAGENT_DEBUG=1 shows it)
    const err = e as Error;
    printErr(`joinagent: ${err?.message ?? String(e)}\n`);
    if (process.env.JOINAGENT_DEBUG) printErr(`${err?.stack}\n`);
    return EXIT.failed;
  }
}
