import { redact } from '../host/redact.js';

export type Level = 'pass' | 'warn' | 'fail' | 'skip';
export interface CheckLine {
  name: string;
  level: Level;
  message: string;
  hint?: string;
}

// One line per check, as `discover` and `diagnose` print them: a grep-able verdict,
// the check's name, what was found, and on failure or warning the next action.
export function formatCheck(c: CheckLine, width = 13): string {
  const tag = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' }[c.level];
  const hint = c.hint && c.level !== 'pass' ? ` (hint: ${c.hint})` : '';
  return redact(`${tag}  ${c.name.padEnd(width)} ${c.message}${hint}`.replace(/\n+/g, ' | '));
}
