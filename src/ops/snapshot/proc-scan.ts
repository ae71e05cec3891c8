import path from 'node:path';
import type { Files } from '../../host/files.js';

export interface ProcEntry {
  pid: number;
  comm: string;
  /** argv joined by spaces; empty for kernel threads. */
  args: string;
}

// One pass over /proc/[0-9]*: the processes, namespaces and sockets views all need it.
// A process that exits mid-walk simply drops out.
export async function scanProcesses(files: Files, procRoot: string): Promise<ProcEntry[]> {
  const pids = (await files.list(procRoot)).filter((name) => /^\d+$/.test(name));
  const dirs = pids.map((pid) => path.posix.join(procRoot, pid));
  const [comms, cmdlines] = [await files.readSmall(dirs.map((d) => `${d}/comm`)), await files.readSmall(dirs.map((d) => `${d}/cmdline`))];
  const out: ProcEntry[] = [];
  pids.forEach((pid, i) => {
    const comm = comms[i]?.trim();
    if (comm === undefined) return;
    const args = (cmdlines[i] ?? '').split('\0').filter((a, j, all) => a !== '' || j < all.length - 1).join(' ').trim();
    out.push({ pid: Number(pid), comm, args });
  });
  return out.sort((a, b) => a.pid - b.pid);
}

// socket inode -> owning process names, from the /proc/PID/fd/* links ("socket:[123]").
export async function socketOwners(files: Files, procRoot: string, procs: ProcEntry[]): Promise<Map<string, Set<string>>> {
  const dirs = procs.map((p) => `${procRoot}/${p.pid}/fd`);
  const fds = await files.lists(dirs);
  const links = fds.flatMap((names, i) => names.map((fd) => ({ comm: procs[i].comm, path: `${dirs[i]}/${fd}` })));
  const targets = await files.readlinks(links.map((l) => l.path));
  const owners = new Map<string, Set<string>>();
  links.forEach((l, i) => {
    const m = targets[i] ? /^socket:\[(\d+)\]$/.exec(targets[i]!) : null;
    if (!m) return;
    if (!owners.has(m[1])) owners.set(m[1], new Set());
    owners.get(m[1])!.add(l.comm);
  });
  return owners;
}
