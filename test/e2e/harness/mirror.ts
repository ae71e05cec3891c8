import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The Debian mirror this machine's own apt uses, read from its sources (deb822 `.sources`
// files and one-line `sources.list` entries): a site with its own mirror or proxy-cache
// builds the test nodes from it, and nothing in the repository names a mirror.
export function hostDebianMirror(suite = 'bookworm', etc = '/etc/apt'): string {
  for (const e of aptSourceEntries(etc)) {
    if (e.types.includes('deb') && e.suites.includes(suite) && isDebianArchive(e)) return e.uri.replace(/\/+$/, '');
  }
  throw new Error(`no Debian '${suite}' archive in ${etc}/sources.list or ${etc}/sources.list.d/: the e2e nodes are built from the mirror the host's apt uses (set one up, e.g. 'deb http://deb.debian.org/debian ${suite} main')`);
}

export interface AptSourceEntry {
  types: string[];
  uri: string;
  suites: string[];
  signedBy?: string;
}

// Every entry of every source file, in apt's order (sources.list first, then the
// directory sorted by name).
export function aptSourceEntries(etc = '/etc/apt'): AptSourceEntry[] {
  const out: AptSourceEntry[] = [];
  const list = path.join(etc, 'sources.list');
  if (existsSync(list)) out.push(...parseOneLine(readFileSync(list, 'utf8')));
  const dir = path.join(etc, 'sources.list.d');
  const names = existsSync(dir) ? readdirSync(dir).sort() : [];
  for (const n of names) {
    const text = readFileSync(path.join(dir, n), 'utf8');
    if (n.endsWith('.list')) out.push(...parseOneLine(text));
    else if (n.endsWith('.sources')) out.push(...parseDeb822(text));
  }
  return out;
}

// The main archive, not debian-security, -updates' own host or a third-party repository:
// signed by Debian's archive keyring (or unsigned-by-option, as in a plain sources.list)
// and a path ending in /debian.
function isDebianArchive(e: AptSourceEntry): boolean {
  if (e.signedBy && !/debian-archive-keyring/.test(e.signedBy)) return false;
  return /\/debian\/?$/.test(e.uri);
}

function parseOneLine(text: string): AptSourceEntry[] {
  const out: AptSourceEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const signedBy = /signed-by=(\S+)/.exec(m[2] ?? '')?.[1];
    out.push({ types: [m[1]], uri: m[3], suites: [m[4]], signedBy });
  }
  return out;
}

function parseDeb822(text: string): AptSourceEntry[] {
  const out: AptSourceEntry[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m && !line.startsWith('#')) f[m[1].toLowerCase()] = m[2].trim();
    }
    if (f.enabled === 'no' || !f.uris || !f.types || !f.suites) continue;
    for (const uri of f.uris.split(/\s+/)) out.push({ types: f.types.split(/\s+/), uri, suites: f.suites.split(/\s+/), signedBy: f['signed-by'] });
  }
  return out;
}
