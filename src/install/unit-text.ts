import path from 'node:path';
import { hostFiles } from '../host/files.js';

// build.sh replaces JOINAGENT_UNIT_TEXT with the text of systemd/joinagent.service
// (esbuild --define), so the single binary carries the unit and that file stays its only
// source. Runs from the sources (tsx, from the repository root) read the file instead.
declare const JOINAGENT_UNIT_TEXT: string | undefined;

export async function unitText(): Promise<string> {
  if (typeof JOINAGENT_UNIT_TEXT === 'string') return JOINAGENT_UNIT_TEXT;
  const file = path.resolve('systemd/joinagent.service');
  const text = await hostFiles('/', true).read(file);
  if (text === null) {
    throw new Error(`the unit text is built into dist/joinagent; running from the sources it is read from ${file}, which is missing: run from the repository root`);
  }
  return text;
}
