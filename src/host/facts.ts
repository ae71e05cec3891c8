import os from 'node:os';
import type { Files } from './files.js';
import { paths } from './paths.js';

export type DistroFamily = 'rhel' | 'debian';

export interface HostFacts {
  hostname: string;
  osId: string;
  osVersion: string;
  osName: string;
  /** Undefined when /etc/os-release names a distribution joinagent does not support. */
  family?: DistroFamily;
  kernel: string;
  arch: string;
  cpus: number;
  memoryBytes: number;
}

const RHEL_IDS = ['rocky', 'rhel', 'almalinux', 'centos', 'fedora'];
const DEBIAN_IDS = ['debian', 'ubuntu'];

// Parses /etc/os-release (shell-style KEY=value, optionally quoted).
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]] = v.replace(/\\(["$`\\])/g, '$1');
  }
  return out;
}

// ID first, then ID_LIKE: derivatives (Oracle: "ol", ID_LIKE="fedora") map to their family.
export function distroFamily(osr: Record<string, string>): DistroFamily | undefined {
  const ids = [osr.ID ?? '', ...(osr.ID_LIKE ?? '').split(/\s+/)].map((s) => s.toLowerCase()).filter(Boolean);
  for (const id of ids) {
    if (RHEL_IDS.includes(id)) return 'rhel';
    if (DEBIAN_IDS.includes(id)) return 'debian';
  }
  return undefined;
}

// CPU and memory come from systeminformation (the product's chosen library); it is
// loaded lazily because most commands never need it and it costs start-up time.
export async function gatherFacts(files: Files): Promise<HostFacts> {
  const osr = parseOsRelease((await files.read(paths.osRelease)) ?? '');
  let cpus = os.cpus().length;
  let memoryBytes = os.totalmem();
  try {
    const si = await import('systeminformation');
    const [cpu, mem] = await Promise.all([si.cpu(), si.mem()]);
    cpus = cpu.cores || cpus;
    memoryBytes = mem.total || memoryBytes;
  } catch {
    // facts are informative; fall back to node:os
  }
  return {
    hostname: os.hostname(),
    osId: osr.ID ?? 'unknown',
    osVersion: osr.VERSION_ID ?? '',
    osName: osr.PRETTY_NAME ?? osr.NAME ?? 'unknown',
    family: distroFamily(osr),
    kernel: os.release(),
    arch: os.arch(),
    cpus,
    memoryBytes,
  };
}
