import type { Snapshot, View } from '../snapshot/types.js';
import { VIEW_TITLES } from '../snapshot/types.js';
import { ephemeralRange, isNoisyChange, normalizeView } from './noise.js';

export interface ViewDiff {
  view: string;
  title: string;
  /** compared, or why not: missing in one or both snapshots. */
  status: 'compared' | 'missing';
  reason?: string;
  /** Compared against nothing: one side could not be read (e.g. no containerd yet). */
  note?: string;
  appeared: { key: string; value: string }[];
  disappeared: { key: string; value: string }[];
  changed: { key: string; before: string; after: string }[];
  ignored: number;
}

export interface SnapshotDiff {
  a: { label: string; takenAt: string; hostname: string };
  b: { label: string; takenAt: string; hostname: string };
  views: ViewDiff[];
}

// Compares two snapshots view by view, after noise normalization (pure: fixture tests).
export function diffSnapshots(a: Snapshot, b: Snapshot): SnapshotDiff {
  const names = [...new Set([...Object.keys(VIEW_TITLES), ...Object.keys(a.views), ...Object.keys(b.views)])].filter((n) => n in a.views || n in b.views);
  const ranges = [ephemeralRange(okItems(a.views.sysctls)), ephemeralRange(okItems(b.views.sysctls))];
  return {
    a: { label: a.label, takenAt: a.takenAt, hostname: a.hostname },
    b: { label: b.label, takenAt: b.takenAt, hostname: b.hostname },
    views: names.map((n) => diffView(n, a.views[n], b.views[n], ranges)),
  };
}

function diffView(name: string, va: View | undefined, vb: View | undefined, ranges: [number, number][]): ViewDiff {
  const base: ViewDiff = { view: name, title: VIEW_TITLES[name] ?? name, status: 'compared', appeared: [], disappeared: [], changed: [], ignored: 0 };
  // A view whose subject did not exist on one side (images before containerd was
  // installed) is compared with an empty view: everything the join brought shows as
  // appeared. A view that merely could not be read stays "not compared".
  const empty: View = { status: 'ok', source: 'none', items: {} };
  if (va?.status === 'missing' && va.absent && vb?.status === 'ok') return { ...diffView(name, empty, vb, ranges), note: `before: ${va.reason}` };
  if (va?.status === 'ok' && vb?.status === 'missing' && vb.absent) return { ...diffView(name, va, empty, ranges), note: `after: ${vb.reason}` };
  if (va?.status !== 'ok' || vb?.status !== 'ok') {
    const why = (v: View | undefined, side: string): string | undefined => (v === undefined ? `${side}: not in snapshot` : v.status === 'missing' ? `${side}: ${v.reason}` : undefined);
    const same = va?.status === 'missing' && vb?.status === 'missing' && va.reason === vb.reason;
    return { ...base, status: 'missing', reason: same ? `in both: ${va.reason}` : [why(va, 'before'), why(vb, 'after')].filter(Boolean).join('; ') };
  }
  const na = normalizeView(name, va.items, ranges[0]);
  const nb = normalizeView(name, vb.items, ranges[1]);
  base.ignored = na.ignored + nb.ignored;
  for (const [k, v] of Object.entries(nb.items)) {
    if (!(k in na.items)) base.appeared.push({ key: k, value: v });
    else if (na.items[k] !== v) {
      if (isNoisyChange(name)) base.ignored++;
      else base.changed.push({ key: k, before: na.items[k], after: v });
    }
  }
  for (const [k, v] of Object.entries(na.items)) if (!(k in nb.items)) base.disappeared.push({ key: k, value: v });
  if (name === 'sysctls') {
    base.appeared = collapseInterfaces(base.appeared, na.items);
    base.disappeared = collapseInterfaces(base.disappeared, nb.items);
  }
  return base;
}

const PER_INTERFACE = /^(net\.ipv[46]\.(?:conf|neigh)\.[^.]+)\./;

// A new interface (cni0, flannel.1, every veth) brings dozens of per-interface sysctls;
// when none of them existed on the other side, show one line per interface instead.
function collapseInterfaces(list: { key: string; value: string }[], other: Record<string, string>): { key: string; value: string }[] {
  const groups = new Map<string, number>();
  for (const { key } of list) {
    const m = PER_INTERFACE.exec(key);
    if (m) groups.set(m[1], (groups.get(m[1]) ?? 0) + 1);
  }
  const existed = new Set(Object.keys(other).map((k) => PER_INTERFACE.exec(k)?.[1]).filter(Boolean));
  const collapsed = new Set([...groups].filter(([g, n]) => n > 2 && !existed.has(g)).map(([g]) => g));
  const out: { key: string; value: string }[] = [];
  const emitted = new Set<string>();
  for (const item of list) {
    const g = PER_INTERFACE.exec(item.key)?.[1];
    if (g && collapsed.has(g)) {
      if (!emitted.has(g)) out.push({ key: `${g}.*`, value: `(${groups.get(g)} sysctls)` });
      emitted.add(g);
    } else out.push(item);
  }
  return out;
}

function okItems(v: View | undefined): Record<string, string> | undefined {
  return v?.status === 'ok' ? v.items : undefined;
}

export function countChanges(d: SnapshotDiff): number {
  return d.views.reduce((n, v) => n + v.appeared.length + v.disappeared.length + v.changed.length, 0);
}
