import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { redact, redactDeep } from '../host/redact.js';

export type LogFormat = 'pretty' | 'json';
export type { Logger };

// pino to a synchronous destination: transports run in worker threads that load files by
// path, which a single-binary bundle cannot do. Pretty is an in-process stream on a TTY;
// JSON lines otherwise (journald, files, pipes). Every argument is redacted first.
// pino-pretty is passed in (see openLogger): a daemon logging JSON never loads it.
export function createLogger(format: LogFormat, level = 'info', fd = 2, pretty?: typeof PinoPretty): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    hooks: {
      logMethod(args, method) {
        const clean = args.map((a) => (typeof a === 'string' ? redact(a) : redactDeep(a))) as Parameters<typeof method>;
        method.apply(this, clean);
      },
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (format === 'pretty' && pretty) {
    const stream = pretty({
      destination: fd,
      sync: true,
      colorize: Boolean(process.stderr.isTTY),
      translateTime: 'HH:MM:ss',
      ignore: 'pid,hostname,event,step,state,durationMs,attempts,changes,phase,mode,delayMs,key,value,exitCode',
      singleLine: true,
    });
    return pino(options, stream);
  }
  return pino(options, pino.destination({ fd, sync: true }));
}

// The CLI's logger: loads pino-pretty only when the format is pretty (start-up time).
export async function openLogger(format: LogFormat, level = 'info', fd = 2): Promise<Logger> {
  const pretty = format === 'pretty' ? (await import('pino-pretty')).default : undefined;
  return createLogger(format, level, fd, pretty);
}

export function defaultLogFormat(): LogFormat {
  return process.stderr.isTTY ? 'pretty' : 'json';
}
