import path from 'node:path';
import type { Change, StepContext } from '../../engine/step.js';
import { COMMENT_PREFIX } from '../../host/markers.js';
import { fileChange } from './file-change.js';

// systemd-style configuration directories (sysctl.d, modprobe.d): what the host applies at
// boot. Shared by the steps whose setting must survive a reboot.
export interface ConfFile {
  path: string;
  text: string;
}

// The files of `dirs` that take effect: one per file name (the first directory listed
// wins: /etc before /run before /usr/lib), in file-name order, as systemd reads them.
export async function effectiveConfFiles(ctx: StepContext, dirs: string[], suffix = '.conf'): Promise<ConfFile[]> {
  const byName = new Map<string, ConfFile>();
  for (const dir of dirs) {
    for (const name of await ctx.files.list(dir)) {
      if (!name.endsWith(suffix) || byName.has(name)) continue;
      const text = await ctx.files.read(`${dir}/${name}`).catch(() => null);
      if (text !== null) byName.set(name, { path: `${dir}/${name}`, text });
    }
  }
  return [...byName.keys()].sort().map((n) => byName.get(n)!);
}

// A file whose lines would undo a required setting at boot, neutralised: the lines are
// commented out with joinagent's marker (ctx.files keeps a backup). The host's own files
// (under `etcDir`, or /etc/sysctl.conf) are edited in place, through a symlink that
// points into /etc; a package's file is not edited (an upgrade would bring the line back)
// but masked by a copy of the same name in `etcDir`, which takes precedence.
export async function neutraliseLines(ctx: StepContext, file: ConfFile, etcDir: string, isBad: (line: string) => boolean): Promise<{ target: string; masked: boolean; change: Change | null }> {
  const own = file.path.startsWith(`${etcDir}/`) || file.path === '/etc/sysctl.conf';
  const target = own ? await throughLink(ctx, file.path) : `${etcDir}/${path.posix.basename(file.path)}`;
  const text = file.text
    .split('\n')
    .map((line) => (isBad(line) ? COMMENT_PREFIX + line : line))
    .join('\n');
  return { target, masked: !own, change: await fileChange(ctx, target, text) };
}

// The file a link in /etc points at, when that file is in /etc too (99-sysctl.conf ->
// ../sysctl.conf); else the link itself, which the write then replaces with a file.
async function throughLink(ctx: StepContext, p: string): Promise<string> {
  const target = await ctx.files.readlink(p);
  if (target === null) return p;
  const real = path.posix.resolve(path.posix.dirname(p), target);
  return real.startsWith('/etc/') ? real : p;
}
