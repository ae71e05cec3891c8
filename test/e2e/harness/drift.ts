import assert from 'node:assert/strict';
import type { StatusDocument } from '../../../src/status/model.js';
import { diffHashes, hashEtc, statusInNode } from './agent.js';
import type { Node } from './node.js';
import { waitFor } from './sh.js';
import type { World } from './world.js';

// What the drift scenarios watch on a joined node whose agent runs under systemd with a
// short reconcile.interval: reconcile passes (each ends with a new drift.lastCheck in
// /status), the drift counters in /status and /metrics, and the witnesses that nothing
// but the drifted thing changed (/etc hashes, PID 1's journal, unit start times).

export type DriftStatus = StatusDocument['drift'];
type Recent = DriftStatus['recent'][number];

// Waits for the end of a reconcile pass that ends after `after` (ISO time): the pass
// writes drift.lastCheck when it has checked every step.
export async function passEndingAfter(node: Node, after: string, timeoutMs = 5 * 60_000): Promise<StatusDocument> {
  return waitFor(`a reconcile pass ending after ${after}`, async () => {
    const s = await statusInNode(node);
    return s.drift.lastCheck && s.drift.lastCheck > after ? s : undefined;
  }, timeoutMs, 500);
}

// The pass a break is measured against: the first pass that STARTS after the break must
// find it ("noticed within one interval"). /status `next` is the scheduled start of the
// coming pass while the daemon sleeps, and absent while a pass runs. A pass that was
// already under way when the break landed may find it too; it is waited out.
export async function firstPassAfter(node: Node, brokeAt: string): Promise<string> {
  for (;;) {
    const s = await waitFor('the daemon between two passes (/status next set)', async () => {
      const d = await statusInNode(node);
      return d.next?.action === 'reconcile' ? d : undefined;
    }, 5 * 60_000, 300);
    if (s.next!.at >= brokeAt) return s.next!.at;
    await passEndingAfter(node, s.drift.lastCheck ?? '');
  }
}

// The first finding for `step` recorded after `since`.
export function findingAfter(d: DriftStatus, step: string, since: string): Recent | undefined {
  return d.recent.find((r) => r.id === step && r.at > since);
}

// /metrics as the node's own curl sees it, as { 'name{labels}': value }.
export async function metricsInNode(node: Node): Promise<Map<string, number>> {
  const r = await node.exec(['curl', '-sS', '--max-time', '10', 'http://127.0.0.1:9797/metrics']);
  const out = new Map<string, number>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

export function driftCounters(m: Map<string, number>, step: string): { detected: number; repairs: number; failures: number } {
  const v = (name: string): number => m.get(`${name}{step="${step}"}`) ?? 0;
  return { detected: v('joinagent_drift_detected_total'), repairs: v('joinagent_drift_repairs_total'), failures: v('joinagent_drift_repair_failures_total') };
}

export interface HostWitness {
  etc: Map<string, string>;
  cursor: string;
  units: Record<string, string>;
}

const WATCHED_UNITS = ['containerd', 'kubelet', 'joinagent', 'systemd-networkd', 'systemd-journald', 'systemd-resolved', 'systemd-timesyncd', 'dbus'];

// Start time and restart count of the units a careless repair could bounce.
async function unitStarts(node: Node): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const u of WATCHED_UNITS) {
    out[u] = (await node.exec(['systemctl', 'show', u, '-p', 'ExecMainStartTimestampMonotonic,NRestarts,ActiveState,MainPID'], { allowFailure: true })).stdout.trim().replace(/\n/g, ' ');
  }
  return out;
}

export async function hostWitness(node: Node): Promise<HostWitness> {
  const cursor = (await node.exec(['journalctl', '-n', '0', '--show-cursor', '--no-pager'])).stdout.match(/-- cursor: (.+)/)?.[1];
  assert.ok(cursor, 'a journal cursor to compare against');
  return { etc: await hashEtc(node), cursor, units: await unitStarts(node) };
}

// Services D-Bus starts on demand for a read every pass makes and that exit when idle:
// the time step's `timedatectl show` activates systemd-timedated. Not a change to the host.
const BUS_ACTIVATED_BY_CHECKS = [/systemd-timedated\.service - Time & Date Service/];

export interface Allowed {
  /** Files under /etc the repair of this break may leave different (the drifted file). */
  files?: string[];
  /** Units the repair may (re)start: the drifted service itself. */
  units?: string[];
  /** PID 1 journal lines that belong to this break and its repair (swap activation...). */
  journal?: RegExp[];
}

// Nothing but the drifted thing changed between `before` and now: /etc outside the allowed
// files hashes the same, PID 1 logged no start/stop/reload of another unit, and the
// watched units other than the allowed ones kept their start time and restart count.
export async function assertNoCollateral(node: Node, before: HostWitness, allowed: Allowed): Promise<void> {
  const changed = diffHashes(before.etc, await hashEtc(node)).filter((c) => !(allowed.files ?? []).some((f) => c.endsWith(` ${f}`)));
  assert.deepEqual(changed, [], 'nothing else under /etc changed');
  const pid1 = (await node.exec(['journalctl', `--after-cursor=${before.cursor}`, '_PID=1', '-o', 'cat', '--no-pager'])).stdout;
  const units = allowed.units ?? [];
  const unrelated = pid1
    .split('\n')
    .filter((l) => /^(Start|Stopp|Reload|Restart|Deactivat|Activat|Finished|Stopped|Started)/.test(l))
    .filter((l) => !units.some((u) => l.includes(`${u}.service`) || new RegExp(`\\b${u}\\b`).test(l)))
    .filter((l) => !(allowed.journal ?? []).some((re) => re.test(l)))
    .filter((l) => !BUS_ACTIVATED_BY_CHECKS.some((re) => re.test(l)));
  assert.deepEqual(unrelated, [], `systemd (PID 1) saw no unrelated unit change:\n${pid1}`);
  const now = await unitStarts(node);
  for (const u of WATCHED_UNITS) if (!units.includes(u)) assert.equal(now[u], before.units[u], `${u} was not restarted`);
}

// The control plane's view after a repair: this node's Node is Ready and its kubelet
// posted a heartbeat after `since` (a stale Ready from before the break is not proof).
export async function assertNodeReadySince(w: World, since: string): Promise<void> {
  const hostname = (await w.node.exec(['hostname'])).stdout.trim();
  await waitFor(`Node ${hostname} Ready with a heartbeat after ${since}`, async () => {
    const me = (await w.cp!.nodes()).find((n) => n.name === hostname);
    return me?.ready && (me.readyHeartbeat ?? '') > since.replace(/\.\d+Z$/, 'Z') ? true : undefined;
  }, 90_000, 1000);
}
