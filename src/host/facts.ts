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
  /** /etc/machine-id ("" when empty; undefined when missing): a fleet tool spots clones by it. */
  machineId?: string;
  /** DMI product_uuid (kubeadm's and the CNI's other identity); undefined without DMI or root. */
  productUuid?: string;
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

// The facts every step needs, from /etc/os-release and node:os: cheap enough to gather
// before /status is served. refineFacts() adds systeminformation's view afterwards.
export async function gatherFacts(files: Files): Promise<HostFacts> {
  const osr = parseOsRelease((await files.read(paths.osRelease)) ?? '');
  return {
    hostname: os.hostname(),
    osId: osr.ID ?? 'unknown',
    osVersion: osr.VERSION_ID ?? '',
    osName: osr.PRETTY_NAME ?? osr.NAME ?? 'unknown',
    family: distroFamily(osr),
    kernel: os.release(),
    arch: os.arch(),
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    machineId: (await files.read(paths.machineId))?.trim(),
    productUuid: (await files.read(paths.productUuid).catch(() => null))?.trim().toLowerCase() || undefined,
  };
}

// CPU and memory from systeminformation (the product's chosen library), loaded lazily and
// called after the status server is up: it spawns lscpu and dmidecode, which would delay
// the first served /status. Facts are informative; node:os values stay on any failure.
export async function refineFacts(facts: HostFacts): Promise<HostFacts> {
  try {
    // its cpu and memory modules only: the package index loads all twenty (see src/types)
    const [{ cpu: siCpu }, { mem: siMem }] = await Promise.all([import('systeminformation/lib/cpu.js'), import('systeminformation/lib/memory.js')]);
    const [cpu, mem] = await Promise.all([siCpu(), siMem()]);
    facts.cpus = cpu.cores || facts.cpus;
    facts.memoryBytes = mem.total || facts.memoryBytes;
  } catch {
    // keep the node:os values
  }
  return facts;
}
