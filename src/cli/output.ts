import { redact } from '../host/redact.js';

// Everything the CLI prints goes through here, redacted: a message may echo a config value
// or an argument, and under systemd stdout and stderr are the journal. `sink` is where the
// redacted text goes (tests capture it there, not by replacing process.stdout.write,
// which the test runner itself reports through).
export const sink = {
  out: (text: string): void => void process.stdout.write(text),
  err: (text: string): void => void process.stderr.write(text),
};

export function print(text: string): void {
  sink.out(redact(text));
}

export function printErr(text: string): void {
  sink.err(redact(text));
}
