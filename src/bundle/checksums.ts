import path from 'node:path';
import { StepError } from '../engine/step.js';
import { crypto } from '../host/crypto.js';
import type { Files } from '../host/files.js';

// A joinagent bundle's checksum lists: SHA256SUMS in `sha256sum` format in each of its
// directories (so `sha256sum -c SHA256SUMS` works there too). The agent checks a
// directory's list before it installs or imports anything from it.
export const SUMS = 'SHA256SUMS';

export function sha256(data: Buffer): string {
  return crypto().createHash('sha256').update(data).digest('hex');
}

export function renderSha256Sums(entries: Record<string, string>): string {
  return Object.keys(entries).sort().map((name) => `${entries[name]}  ${name}\n`).join('');
}

export function parseSha256Sums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

// Checks every file of `dir` the list names, and that no file of the kinds the agent
// uses (.deb, .rpm, .tar, the repository indexes) is missing from the list. null when the
// directory has no list (not a bundle: a mirror the operator keeps is trusted as it is).
export async function verifyBundleDir(files: Files, dir: string, what: string): Promise<number | null> {
  const text = await files.read(path.posix.join(dir, SUMS));
  if (text === null) return null;
  const listed = parseSha256Sums(text);
  const again = `unpack the bundle again from the original file (check that file against the sha256 \`joinagent bundle\` printed), or make a new one with \`joinagent bundle\``;
  for (const [name, want] of listed) {
    const data = await files.readBytes(path.posix.join(dir, name));
    if (data === null) throw new StepError(`bundle: ${path.posix.join(dir, name)} is listed in ${dir}${SUMS} but missing: the ${what} in the bundle are incomplete`, again);
    const got = sha256(data);
    if (got !== want) throw new StepError(`bundle: ${path.posix.join(dir, name)} has sha256 ${got}, but the bundle's ${SUMS} says ${want}: the file is damaged or was changed; nothing was installed from the bundle`, again);
  }
  for (const name of await files.list(dir)) {
    if (/\.(deb|rpm|tar)$|^(Packages(\.gz)?|Release)$/.test(name) && !listed.has(name)) {
      throw new StepError(`bundle: ${path.posix.join(dir, name)} is not in the bundle's ${SUMS}: it was added after the bundle was made; nothing was installed from the bundle`, `remove it, or make a new bundle with \`joinagent bundle\``);
    }
  }
  return listed.size;
}
