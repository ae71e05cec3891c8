import { printErr } from './output.js';
import type { Command } from 'commander';
import { ConfigError, loadConfig, type LoadOptions, type LoadResult } from '../config/load.js';
import { formatProblems } from '../config/load.js';
import { paths } from '../host/paths.js';
import { defaultLogFormat, openLogger, type LogFormat, type Logger } from '../log/logger.js';
import { CliExit, EXIT } from './exit.js';

export interface GlobalOptions {
  config: string;
  logFormat?: LogFormat;
  logLevel: string;
  root: string;
}

export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Partial<GlobalOptions>;
  return {
    config: o.config ?? process.env.JOINAGENT_CONFIG ?? paths.config,
    logFormat: o.logFormat,
    logLevel: o.logLevel ?? 'info',
    root: o.root ?? process.env.JOINAGENT_ROOT ?? '/',
  };
}

export function loggerFor(g: GlobalOptions): Promise<Logger> {
  return openLogger(g.logFormat ?? defaultLogFormat(), g.logLevel);
}

// Loads the config or ends the command with exit 2 and every problem listed; warnings go
// to stderr either way.
export async function loadOrExit(g: GlobalOptions, opts: LoadOptions = {}): Promise<LoadResult> {
  try {
    const r = await loadConfig(g.config, opts);
    if (r.warnings.length) printErr(formatProblems(g.config, r.warnings) + '\n');
    return r;
  } catch (e) {
    if (e instanceof ConfigError) {
      const errors = e.problems.filter((p) => p.severity === 'error');
      throw new CliExit(EXIT.usage, `${formatProblems(g.config, e.problems)}\n${g.config}: ${errors.length} problem${errors.length === 1 ? '' : 's'}; nothing was changed`);
    }
    throw e;
  }
}
