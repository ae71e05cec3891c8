import type { Files } from '../../../host/files.js';

// dpkg's own database, read as a file instead of through a dpkg-query process (the no-op
// re-run's floor is a few file reads). `dpkg-query -W -f='${Package}\t${Version}\t
// ${db:Status-Abbrev}\n' NAMES` prints, for each stanza of /var/lib/dpkg/status whose
// Package is one of NAMES, its Version and the Status field's want/state/error letters;
// this renders exactly those lines. dpkg first replays its journal
// (/var/lib/dpkg/updates/) into that view: while the journal has entries (a dpkg run in
// progress or interrupted) the file alone is not the truth, and undefined sends the
// caller to dpkg-query.
export const DPKG_STATUS = '/var/lib/dpkg/status';
export const DPKG_UPDATES = '/var/lib/dpkg/updates';

const WANT: Record<string, string> = { unknown: 'u', install: 'i', hold: 'h', deinstall: 'r', purge: 'p' };
const EFLAG: Record<string, string> = { ok: ' ', reinstreq: 'R' };
const STATE: Record<string, string> = { 'not-installed': 'n', 'config-files': 'c', 'half-installed': 'H', unpacked: 'U', 'half-configured': 'F', 'triggers-awaited': 'W', 'triggers-pending': 't', installed: 'i' };

export async function dpkgQueryFromStatus(files: Files, names: string[]): Promise<string | undefined> {
  if (!(await files.stat(DPKG_UPDATES))?.isDir || (await files.list(DPKG_UPDATES)).length > 0) return undefined;
  const text = await files.read(DPKG_STATUS);
  if (text === null) return undefined;
  return renderDpkgQuery(text, names);
}

// Pure: the status file and the names -> dpkg-query's lines (order of the file, as dpkg-query
// prints for explicit names is not guaranteed either; callers key by name).
export function renderDpkgQuery(status: string, names: string[]): string | undefined {
  const wanted = new Set(names);
  const out: string[] = [];
  for (const stanza of status.split(/\n\n+/)) {
    const pkg = field(stanza, 'Package');
    if (!pkg || !wanted.has(pkg)) continue;
    const st = field(stanza, 'Status')?.split(/\s+/);
    if (!st || st.length !== 3 || !(st[0] in WANT) || !(st[1] in EFLAG) || !(st[2] in STATE)) return undefined; // not a form we know: ask dpkg
    out.push(`${pkg}\t${field(stanza, 'Version') ?? ''}\t${WANT[st[0]]}${STATE[st[2]]}${EFLAG[st[1]]}`);
  }
  return out.join('\n') + (out.length ? '\n' : '');
}

function field(stanza: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(stanza);
  return m?.[1].trim();
}
