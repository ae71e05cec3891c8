import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Every name and place the harness uses, in one file: the cache survives runs, node
// directories and network names carry the ja-e2e prefix so cleanup can find leftovers.
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const cacheDir = process.env.JOINAGENT_E2E_CACHE ?? path.join(os.homedir(), '.cache/joinagent-e2e');
export const nodesDir = '/var/tmp';
export const prefix = 'ja-e2e';
export const binary = path.join(repoRoot, 'dist/joinagent');

/** Slot n (1..250) owns 198.18.n.0/30: the host side is .1, the node .2. */
export function linkFor(slot: number): { host: string; node: string; machine: string; hostIf: string; nodeIf: string; serviceIf: string } {
  if (!Number.isInteger(slot) || slot < 1 || slot > 250) throw new Error(`slot ${slot}: must be 1..250`);
  // nspawn names the host end of --network-veth "ve-" + the machine name
  return { host: `198.18.${slot}.1`, node: `198.18.${slot}.2`, machine: `jae${slot}`, hostIf: `ve-jae${slot}`, nodeIf: 'host0', serviceIf: `${prefix}-h${slot}` };
}
