import type { Files } from '../../host/files.js';
import { socketOwners, type ProcEntry } from './proc-scan.js';
import { missingView, okView, type View } from './types.js';

// `pstree -a` without PIDs: each distinct command line with how many processes run it.
// Kernel threads (no command line) are left out: their names churn (kworker/u4:2).
export function processesView(procs: ProcEntry[], selfPid: number): View {
  if (procs.length === 0) return missingView('no processes under /proc (is /proc mounted?)');
  const items: Record<string, string> = {};
  for (const p of procs) {
    if (p.pid === selfPid || p.args === '') continue;
    const key = `${p.comm}: ${p.args}`;
    items[key] = String(Number(items[key] ?? 0) + 1);
  }
  return okView('/proc/*/comm, /proc/*/cmdline', items);
}

// `lsns`: each namespace (type:[inode]) with the command of its first process; the
// process count is a note (it changes with every fork).
export async function namespacesView(files: Files, procRoot: string, procs: ProcEntry[]): Promise<View> {
  if (procs.length === 0) return missingView('no processes under /proc (is /proc mounted?)');
  const items: Record<string, string> = {};
  const counts: Record<string, number> = {};
  const dirs = procs.map((p) => `${procRoot}/${p.pid}/ns`);
  const types = await files.lists(dirs);
  // _for_children: the same namespaces again, seen from the child side
  const links = types.flatMap((ts, i) => ts.filter((t) => !t.endsWith('_for_children')).map((t) => ({ comm: procs[i].comm, path: `${dirs[i]}/${t}` })));
  const targets = await files.readlinks(links.map((l) => l.path));
  links.forEach((l, i) => {
    const ns = targets[i];
    if (!ns) return;
    items[ns] ??= l.comm;
    counts[ns] = (counts[ns] ?? 0) + 1;
  });
  const notes = Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, `${n} process${n === 1 ? '' : 'es'}`]));
  return okView('/proc/*/ns/*', items, { notes });
}

const TABLES = [
  { file: 'tcp', proto: 'tcp', v6: false, state: '0A' },
  { file: 'tcp6', proto: 'tcp6', v6: true, state: '0A' },
  { file: 'udp', proto: 'udp', v6: false, state: '07' },
  { file: 'udp6', proto: 'udp6', v6: true, state: '07' },
];

// `ss -tlnp` / `ss -ulnp` from /proc/net: listening TCP and bound UDP sockets, by protocol,
// address and port, owned by the process names found through /proc/*/fd socket inodes.
export async function listeningView(files: Files, procRoot: string, procs: ProcEntry[]): Promise<View> {
  const sockets: { key: string; inode: string }[] = [];
  let found = false;
  for (const t of TABLES) {
    const text = await files.read(`${procRoot}/net/${t.file}`).catch(() => null);
    if (text === null) continue;
    found = true;
    sockets.push(...parseSocketTable(text, t).map((s) => ({ key: `${t.proto} ${s.address}`, inode: s.inode })));
  }
  if (!found) return missingView(`no ${procRoot}/net/tcp (is /proc mounted?)`);
  const owners = await socketOwners(files, procRoot, procs);
  const items: Record<string, string> = {};
  for (const s of sockets) {
    const names = new Set([...(items[s.key] ? items[s.key].split(',') : []), ...(owners.get(s.inode) ?? [])]);
    items[s.key] = [...names].filter((n) => n !== '?').sort().join(',') || '?';
  }
  return okView('/proc/net/{tcp,tcp6,udp,udp6}', items);
}

// Rows of a /proc/net/{tcp,udp}[6] table in the wanted state; remote port 0 for UDP
// means bound but unconnected (a server socket).
export function parseSocketTable(text: string, t: { v6: boolean; state: string }): { address: string; inode: string }[] {
  const out: { address: string; inode: string }[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== t.state) continue;
    const [addrHex, portHex] = f[1].split(':');
    const port = parseInt(portHex, 16);
    const addr = t.v6 ? `[${hexToIpv6(addrHex)}]` : hexToIpv4(addrHex);
    out.push({ address: `${addr}:${port}`, inode: f[9] });
  }
  return out;
}

// /proc/net stores each 32-bit word in host (little-endian) order.
export function hexToIpv4(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  return [b[3], b[2], b[1], b[0]].join('.');
}

export function hexToIpv6(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  const words: string[] = [];
  for (let w = 0; w < 4; w++) {
    const le = b.subarray(w * 4, w * 4 + 4);
    const be = Buffer.from([le[3], le[2], le[1], le[0]]);
    words.push(be.readUInt16BE(0).toString(16), be.readUInt16BE(2).toString(16));
  }
  return compressIpv6(words);
}

// Longest run of zero groups becomes "::" (RFC 5952).
function compressIpv6(words: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

// `findmnt` from mountinfo: mount point -> fstype, source and options; mount IDs and
// device numbers (they change across reboots) are left out.
export async function mountsView(files: Files, procRoot: string): Promise<View> {
  const text = await files.read(`${procRoot}/self/mountinfo`).catch(() => null);
  if (text === null) return missingView(`cannot read ${procRoot}/self/mountinfo (is /proc mounted?)`);
  const items: Record<string, string> = {};
  for (const m of parseMountinfo(text)) {
    let key = m.mountPoint;
    for (let n = 2; key in items; n++) key = `${m.mountPoint} (#${n})`; // stacked mounts
    items[key] = `${m.fstype} ${m.source} ${m.options}`;
  }
  return okView(`${procRoot}/self/mountinfo`, items);
}

export function parseMountinfo(text: string): { mountPoint: string; fstype: string; source: string; options: string }[] {
  const out: { mountPoint: string; fstype: string; source: string; options: string }[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    const sep = f.indexOf('-');
    if (f.length < 10 || sep < 6) continue;
    out.push({ mountPoint: unescapeMount(f[4]), options: f[5], fstype: f[sep + 1], source: unescapeMount(f[sep + 2]) });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}
