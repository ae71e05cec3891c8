import os from 'node:os';
import type { Files } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import type { Proc } from '../../host/proc.js';
import { redactDeep } from '../../host/redact.js';
import { scanProcesses } from './proc-scan.js';
import { missingView, type Snapshot, type View } from './types.js';
import { kubeletEnvView, treeView } from './views-files.js';
import { listeningView, mountsView, namespacesView, processesView } from './views-proc.js';
import { addressesFromKernel, cgroupsView, sysctlsView } from './views-sys.js';
import { addressesFromIp, runtimeViews } from './views-tools.js';

export interface CaptureOptions {
  label: string;
  hostname?: string;
  /** Left out of the processes view: the snapshot must not see itself. */
  selfPid?: number;
}

// The runbook's 14 before/after views (section 6) in one document. Every view is read
// independently: one that cannot be read is recorded as missing, never an error.
export async function captureSnapshot(files: Files, proc: Proc, opts: CaptureOptions): Promise<Snapshot> {
  const procs = await scanProcesses(files, paths.procRoot).catch(() => []);
  const guard = async (name: string, f: () => Promise<View>): Promise<[string, View]> => {
    try {
      return [name, await f()];
    } catch (e) {
      return [name, missingView(`cannot read: ${(e as Error).message}`)];
    }
  };
  // sequential on purpose: the agent shares a small host with the work it reports on
  const runtime = await runtimeViews(proc, (await files.lstat(paths.containerdSocket).catch(() => null)) !== null);
  const views: [string, View][] = [];
  for (const [name, f] of [
    ['images', async () => runtime.images],
    ['containers', async () => runtime.containers],
    ['kubelet-env', () => kubeletEnvView(files, paths.kubeletEnvFiles)],
    [`files:${paths.kubernetesDir}`, () => treeView(files, paths.kubernetesDir, 5)],
    [`files:${paths.kubeletDir}`, () => treeView(files, paths.kubeletDir, 5)],
    [`files:${paths.containerdRunDir}`, () => treeView(files, paths.containerdRunDir, 3)],
    ['processes', async () => processesView(procs, opts.selfPid ?? process.pid)],
    ['cgroups', () => cgroupsView(files, paths.cgroupRoot)],
    ['namespaces', () => namespacesView(files, paths.procRoot, procs)],
    ['addresses', async () => (await addressesFromIp(proc)) ?? addressesFromKernel(files, paths.procRoot, paths.sysClassNet)],
    ['listening', () => listeningView(files, paths.procRoot, procs)],
    ['mounts', () => mountsView(files, paths.procRoot)],
    ['sysctls', () => sysctlsView(files, paths.sysctlRoot)],
  ] as [string, () => Promise<View>][]) {
    views.push(await guard(name, f));
  }
  // command lines of other programs may carry secrets; a snapshot is a file on disk
  return redactDeep({ format: 'joinagent-snapshot/v1', label: opts.label, takenAt: new Date().toISOString(), hostname: opts.hostname ?? os.hostname(), views: Object.fromEntries(views) });
}

// Reads a snapshot file, with an error that names the file when it is not one.
export function parseSnapshot(text: string, name: string): Snapshot {
  let doc: Snapshot;
  try {
    doc = JSON.parse(text) as Snapshot;
  } catch (e) {
    throw new Error(`${name}: not a joinagent snapshot (invalid JSON: ${(e as Error).message})`, { cause: e });
  }
  if (doc?.format !== 'joinagent-snapshot/v1' || typeof doc.views !== 'object') throw new Error(`${name}: not a joinagent snapshot (no "format": "joinagent-snapshot/v1"); make one with 'joinagent snapshot'`);
  return doc;
}

export function serializeSnapshot(s: Snapshot): string {
  return JSON.stringify(s, null, 1) + '\n';
}
