import { Command, Option } from 'commander';
import { commands } from './commands/index.js';
import { print, printErr } from './output.js';
import { VERSION } from '../version.js';

// Builds the CLI. Each command lives in its own module under commands/ and registers
// itself, so later features slot in without touching this file.
export function buildProgram(): Command {
  const program = new Command('joinagent')
    .description('Prepare this host and join it to a Kubernetes cluster as a worker, then keep it healthy.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-c, --config <path>', 'config file', process.env.JOINAGENT_CONFIG ?? '/etc/joinagent/config.yaml')
    .addOption(new Option('--log-format <format>', 'log format (default: pretty on a TTY, json otherwise)').choices(['pretty', 'json']))
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']).default('info'))
    .addOption(new Option('--root <dir>', 'operate on a host tree rooted here (tests)').hideHelp())
    .showHelpAfterError('(run joinagent --help for usage)')
    .exitOverride();
  // commander's help and usage errors echo arguments (a token typed as an option): redacted too
  program.configureOutput({ writeOut: print, writeErr: printErr, outputError: (str, write) => write(str) });
  for (const register of commands) register(program);
  return program;
}
