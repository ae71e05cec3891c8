import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Every name and place the harness uses, in one file: the cache survives runs, node
// directories and network names carry the ja-e2e prefix so cleanup can find leftovers.
// The cache lives outside HOME: CI runs with an empty HOME of its own, and the root
// filesystems in it are rebuilt from the host's Debian mirror when absent (clear it with
// `rm -rf /var/cache/joinagent-e2e`).
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const cacheDir = process.env.JOINAGENT_E2E_CACHE ?? '/var/cache/joinagent-e2e';
export const nodesDir = '/var/tmp';
export const prefix = 'ja-e2e';
export const binary = path.join(repoRoot, 'dist/joinagent');

// JOINAGENT_E2E_SLOT_OFFSET shifts every scenario's slot, so two test runs on one machine
// (two worktrees, a developer beside CI) boot their nodes on different links and
// directories: give each a multiple of 1000.
const slotOffset = Number(process.env.JOINAGENT_E2E_SLOT_OFFSET ?? 0);
const MAX_SLOT = 32_767; // 198.18.0.0/15 holds 32,768 /30 links

/** The slot a scenario's number becomes on this run (see JOINAGENT_E2E_SLOT_OFFSET). */
export function effectiveSlot(slot: number): number {
  const s = slot + slotOffset;
  if (!Number.isInteger(s) || s < 1 || s > MAX_SLOT) throw new Error(`slot ${slot} (+ offset ${slotOffset}): must be 1..${MAX_SLOT}`);
  return s;
}

/** Slot n owns the n-th /30 of 198.18.0.0/15 (RFC 2544's test range): the host side is
 * its first address, the node its second. For IPv6 it owns fd6a:6f69:6e00:<n>::/64 of a
 * ULA prefix ("join" in hex) no other network here uses (this host's own ULA is fd00::/64):
 * ::1 on the host side, ::2 the node. */
export function linkFor(scenarioSlot: number): { slot: number; host: string; node: string; host6: string; node6: string; machine: string; hostIf: string; nodeIf: string; serviceIf: string } {
  const slot = effectiveSlot(scenarioSlot);
  const base = (198 << 24) + (18 << 16) + slot * 4; // unsigned arithmetic below (>>> 0)
  const ip = (n: number): string => [24, 16, 8, 0].map((sh) => ((n >>> 0) >>> sh) & 255).join('.');
  // nspawn names the host end of --network-veth "ve-" + the machine name (15 chars at most)
  const net6 = `fd6a:6f69:6e00:${slot.toString(16)}`;
  return { slot, host: ip(base + 1), node: ip(base + 2), host6: `${net6}::1`, node6: `${net6}::2`, machine: `jae${slot}`, hostIf: `ve-jae${slot}`, nodeIf: 'host0', serviceIf: `${prefix}-h${slot}` };
}
