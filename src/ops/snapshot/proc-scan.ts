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
  const out: ProcEntry[] = [];
  for (const name of await files.list(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const dir = path.posix.join(procRoot, name);
    const comm = (await files.read(`${dir}/comm`).catch(() => null))?.trim();
    if (comm === undefined) continue;
    const cmdline = (await files.readBytes(`${dir}/cmdline`).catch(() => null)) ?? Buffer.alloc(0);
    const args = cmdline.toString('utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1).join(' ').trim();
    out.push({ pid: Number(name), comm, args });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

// socket inode -> owning process names, from the /proc/PID/fd/* links ("socket:[123]").
export async function socketOwners(files: Files, procRoot: string, procs: ProcEntry[]): Promise<Map<string, Set<string>>> {
  const owners = new Map<string, Set<string>>();
  for (const p of procs) {
    const fdDir = `${procRoot}/${p.pid}/fd`;
    for (const fd of await files.list(fdDir).catch(() => [])) {
      const target = await files.readlink(`${fdDir}/${fd}`);
      const m = target ? /^socket:\[(\d+)\]$/.exec(target) : null;
      if (!m) continue;
      if (!owners.has(m[1])) owners.set(m[1], new Set());
      owners.get(m[1])!.add(p.comm);
    }
  }
  return owners;
}
