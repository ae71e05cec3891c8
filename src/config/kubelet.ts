import type { Spec } from './walk.js';

// The `kubelet:` section: the KubeletConfiguration settings sites change most, written
// as kubelet.config.k8s.io/v1beta1 spells them. They reach kubelet as a kubeadm patch
// (target kubeletconfiguration) applied when `kubeadm join` writes
// /var/lib/kubelet/config.yaml; absent = kubeadm's (the cluster's) value.
export interface KubeletSettings {
  cgroupDriver?: 'systemd' | 'cgroupfs';
  maxPods?: number;
  failSwapOn?: boolean;
  systemReserved?: Record<string, string>;
  kubeReserved?: Record<string, string>;
  evictionHard?: Record<string, string>;
}

// kubeadm has written cgroupDriver: systemd into the cluster's kubelet config since v1.22.
export const DEFAULT_CGROUP_DRIVER = 'systemd';

const RESERVABLE = ['cpu', 'memory', 'ephemeral-storage', 'pid'];
// kubelet's eviction signals (pkg/kubelet/eviction/api)
export const EVICTION_SIGNALS = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'containerfs.available', 'containerfs.inodesFree', 'pid.available', 'allocatableMemory.available'];

// resource.Quantity's text form: 500m, 1.5, 2Gi, 1G, 1e3
const QUANTITY_RE = /^[+]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

function checkReserved(key: string, v: string): string | undefined {
  if (key === 'pid') return /^\d+$/.test(v) ? undefined : `"${v}": pid is a number of process IDs (e.g. "1000")`;
  return QUANTITY_RE.test(v) ? undefined : `"${v}" is not a quantity (e.g. 500m, 1Gi)`;
}

const reservedMap: Spec = {
  t: 'map',
  key: (k) => (RESERVABLE.includes(k) ? undefined : `"${k}" cannot be reserved (one of ${RESERVABLE.join(', ')})`),
  values: { t: 'string', check: (v) => (QUANTITY_RE.test(v) ? undefined : `"${v}" is not a quantity (e.g. 500m, 1Gi; pid: a number)`) },
};

export const kubeletSpec: Spec = {
  t: 'object',
  fields: {
    cgroupDriver: { t: 'string', enum: ['systemd', 'cgroupfs'] },
    maxPods: { t: 'int', min: 1 },
    failSwapOn: { t: 'bool' },
    systemReserved: reservedMap,
    kubeReserved: reservedMap,
    evictionHard: {
      t: 'map',
      key: (k) => (EVICTION_SIGNALS.includes(k) ? undefined : `"${k}" is not an eviction signal (${EVICTION_SIGNALS.slice(0, 4).join(', ')}, ...)`),
      values: { t: 'string', check: (v) => (/^\d+(\.\d+)?%$/.test(v) || QUANTITY_RE.test(v) ? undefined : `"${v}" is not a threshold (a quantity such as 100Mi, or a percentage such as 10%)`) },
    },
  },
};

// The settings present, in KubeletConfiguration's field order.
export function kubeletSettings(raw: unknown): KubeletSettings {
  const r = (raw ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(kubeletSpec.t === 'object' ? kubeletSpec.fields : {})) if (r[k] !== undefined) out[k] = r[k];
  return out as KubeletSettings;
}

export function hasKubeletSettings(k: KubeletSettings): boolean {
  return Object.keys(k).length > 0;
}

// Per-key problems the spec cannot express (a pid value where a quantity is expected and
// the other way round): field path -> message.
export function kubeletProblems(k: KubeletSettings): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const field of ['systemReserved', 'kubeReserved'] as const) {
    for (const [key, v] of Object.entries(k[field] ?? {})) {
      const m = RESERVABLE.includes(key) ? checkReserved(key, v) : undefined;
      if (m) out.push({ path: `kubelet.${field}.${key}`, message: m });
    }
  }
  return out;
}
