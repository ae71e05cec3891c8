// What a diff ignores so the real changes of a join stand out. Each rule is data with the
// reason it is noise; capture skips the sysctls that change on every read as well.

/** Sysctls that count, churn or change on every read. */
export const NOISY_SYSCTLS: RegExp[] = [
  /^kernel\.random\./, // entropy counters, boot_id, a new uuid on every read
  /^fs\.(dentry-state|inode-nr|inode-state|file-nr|aio-nr)$/, // object counters
  /^fs\.quota\./, // quota statistics
  /^kernel\.ns_last_pid$/, // the last PID handed out
  /^kernel\.pty\.nr$/, // open terminals
  /^kernel\.perf_event_max_sample_rate$/, // the kernel lowers it by itself under load
  /^net\.netfilter\.nf_conntrack_count$/, // live connections
  /^fs\.binfmt_misc\.status$/,
];

export function isNoisySysctl(key: string): boolean {
  return NOISY_SYSCTLS.some((re) => re.test(key));
}

/** Cgroups of logins and transient units: they come and go with SSH sessions and timers. */
const NOISY_CGROUPS = [/(^|\/)session-[^/]+\.scope(\/|$)/, /(^|\/)run-[^/]+\.scope(\/|$)/, /(^|\/)user@\d+\.service\//];

const DEFAULT_EPHEMERAL: [number, number] = [32768, 60999];

export interface Normalized {
  items: Record<string, string>;
  ignored: number;
}

// Rewrites one view's items into their comparable form: noisy keys dropped (counted),
// ephemeral ports folded into one key. `portRange` comes from the snapshot's own sysctl.
export function normalizeView(view: string, items: Record<string, string>, portRange = DEFAULT_EPHEMERAL): Normalized {
  const out: Record<string, string> = {};
  let ignored = 0;
  for (const [k, v] of Object.entries(items)) {
    if ((view === 'sysctls' && isNoisySysctl(k)) || (view === 'cgroups' && NOISY_CGROUPS.some((re) => re.test(k)))) {
      ignored++;
      continue;
    }
    if (view === 'listening') {
      // a client's or containerd's stream server's random port: only "something on an
      // ephemeral port" is stable between two snapshots
      const m = /^(\S+) (.*):(\d+)$/.exec(k);
      if (m && Number(m[3]) >= portRange[0] && Number(m[3]) <= portRange[1]) {
        const key = `${m[1]} ${m[2]}:<ephemeral>`;
        out[key] = [...new Set([...(out[key]?.split(',') ?? []), ...v.split(',')])].sort().join(',');
        continue;
      }
    }
    out[k] = v;
  }
  return { items: out, ignored };
}

/** A change of value that carries no information for this view. */
export function isNoisyChange(view: string): boolean {
  // processes: how many run one command line (workers, sessions); namespaces: which
  // process happens to be first in a namespace
  return view === 'processes' || view === 'namespaces';
}

export function ephemeralRange(sysctls: Record<string, string> | undefined): [number, number] {
  const m = /^(\d+) (\d+)$/.exec(sysctls?.['net.ipv4.ip_local_port_range'] ?? '');
  return m ? [Number(m[1]), Number(m[2])] : DEFAULT_EPHEMERAL;
}
