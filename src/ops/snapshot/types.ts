// A snapshot is a set of named views; each view is a flat map key -> value so one generic
// diff serves them all. Keys never hold PIDs, inodes or timestamps: those go in notes,
// which are shown but never compared.
export type View =
  | { status: 'ok'; source: string; items: Record<string, string>; notes?: Record<string, string>; truncated?: boolean }
  | { status: 'missing'; reason: string; /** the thing itself does not exist yet (no containerd): read as empty */ absent?: boolean };

export interface Snapshot {
  format: 'joinagent-snapshot/v1';
  label: string;
  takenAt: string;
  hostname: string;
  views: Record<string, View>;
}

/** Views in the order the runbook saves them (section 6), with a readable title. */
export const VIEW_TITLES: Record<string, string> = {
  images: 'container images',
  containers: 'containers',
  'kubelet-env': 'kubelet environment',
  'files:/etc/kubernetes': 'files under /etc/kubernetes',
  'files:/var/lib/kubelet': 'files under /var/lib/kubelet',
  'files:/run/containerd': 'files under /run/containerd',
  processes: 'processes',
  cgroups: 'cgroups',
  namespaces: 'namespaces',
  addresses: 'addresses',
  listening: 'listening sockets',
  mounts: 'filesystems and mounts',
  sysctls: 'sysctls',
};

export function okView(source: string, items: Record<string, string>, extra: { notes?: Record<string, string>; truncated?: boolean } = {}): View {
  return { status: 'ok', source, items: sortKeys(items), ...(extra.notes ? { notes: sortKeys(extra.notes) } : {}), ...(extra.truncated ? { truncated: true } : {}) };
}

export function missingView(reason: string, absent = false): View {
  return absent ? { status: 'missing', reason, absent } : { status: 'missing', reason };
}

// Sorted keys keep snapshot files stable and diffable with ordinary tools too.
function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
