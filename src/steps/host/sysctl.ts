import path from 'node:path';
import type { Change, Step, StepContext } from '../../engine/step.js';
import { familiesInUse } from '../../config/networking.js';
import type { LoadedConfig } from '../../config/types.js';
import { paths } from '../../host/paths.js';
import { neutraliseLines, type ConfFile } from './boot-config.js';
import { commandChange, fileChange, runCommandChanges, warnOnce, writeFileChanges } from './file-change.js';

export const SYSCTLS: Record<string, string> = {
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
  'net.ipv4.ip_forward': '1',
};

// IPv6 pod traffic is routed like IPv4's. Writing all.forwarding also sets every
// interface's and the default (kernel addrconf); default.forwarding is what kubeadm's
// join preflight reads when the API server is IPv6, so the file names both.
export const IPV6_FORWARDING: Record<string, string> = {
  'net.ipv6.conf.all.forwarding': '1',
  'net.ipv6.conf.default.forwarding': '1',
};

// Pure: the keys this node needs; IPv6 forwarding only where IPv6 is in use.
export function wantedSysctls(config: Pick<LoadedConfig, 'agent' | 'join'>): Record<string, string> {
  return familiesInUse(config.agent, config.join).includes('ipv6') ? { ...SYSCTLS, ...IPV6_FORWARDING } : SYSCTLS;
}

// Directories systemd-sysctl and `sysctl --system` read, highest precedence first for
// files of the same name; all files are then applied in file-name order.
export const SYSCTL_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'];

// /etc/sysctl.d/k8s.conf: the bridge keys make bridged pod traffic visible to iptables
// (kube-proxy), ip_forward lets the node route pod traffic.
export function renderSysctlConf(wanted: Record<string, string> = SYSCTLS): string {
  return '# joinagent: kube-proxy and the CNI need bridged traffic through iptables and IP forwarding\n' + Object.entries(wanted).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
}

// key = value pairs of a sysctl.d file; "a/b/c" keys and the "-" (ignore errors) prefix
// are normalised so they compare with ours.
export function parseSysctlFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const i = line.indexOf('=');
    if (i < 0) continue;
    const key = line.slice(0, i).trim().replace(/^-/, '').replace(/\//g, '.');
    out.set(key, line.slice(i + 1).trim());
  }
  return out;
}

export type SysctlFile = ConfFile;

// Files applied after ours that set one of our keys to another value: at the next boot
// (or `sysctl --system`) they silently win. Order: by file name across all directories
// (same name: the first directory wins), then /etc/sysctl.conf last (procps reads it last).
export function laterOverrides(files: SysctlFile[], ours: string = paths.sysctlConf, wanted: Record<string, string> = SYSCTLS): { path: string; key: string; value: string }[] {
  const byName = new Map<string, SysctlFile>();
  const rest: SysctlFile[] = [];
  for (const f of files) {
    if (f.path === '/etc/sysctl.conf') rest.push(f);
    else if (f.path.endsWith('.conf') && !byName.has(path.basename(f.path))) byName.set(path.basename(f.path), f);
  }
  if (!byName.has(path.basename(ours))) byName.set(path.basename(ours), { path: ours, text: '' });
  const ordered = [...byName.keys()].sort().map((n) => byName.get(n)!).concat(rest);
  const idx = ordered.findIndex((f) => path.basename(f.path) === path.basename(ours));
  const after = ordered.slice(idx + 1);
  const out: { path: string; key: string; value: string }[] = [];
  for (const f of after) {
    for (const [key, value] of parseSysctlFile(f.text)) if (Object.hasOwn(wanted, key) && value !== wanted[key]) out.push({ path: f.path, key, value });
  }
  return out;
}

// sysctl: the file for boot, and live values set only for keys that differ (the runbook's
// `sysctl --system` re-applies every file on the host, including unrelated ones).
export const sysctlStep: Step = {
  id: 'sysctl',
  title: 'sysctl: bridge netfilter and IP forwarding',
  phase: 'host',
  after: ['modules'],
  async check(ctx) {
    const wanted = wantedSysctls(ctx.config);
    const changes: Change[] = [];
    const conf = await fileChange(ctx, paths.sysctlConf, renderSysctlConf(wanted));
    if (conf) changes.push(conf);
    // a setting that will not survive a reboot is not ok: what would win at boot goes
    changes.push(...(await neutraliseOverrides(ctx, wanted)));
    for (const [key, value] of Object.entries(wanted)) {
      const live = (await ctx.files.read(`/proc/sys/${key.replace(/\./g, '/')}`))?.trim() ?? 'absent';
      if (live !== value) changes.push(commandChange(['sysctl', '-w', `${key}=${value}`], live === 'absent' ? [] : [['sysctl', '-w', `${key}=${live}`]]));
    }
    if ('net.ipv6.conf.all.forwarding' in wanted) await reportRouterAdvertisements(ctx);
    return changes.length ? { state: 'change', changes } : { state: 'ok', message: Object.keys(wanted).join(', ') + ' = 1' };
  },
  async apply(ctx, changes) {
    await writeFileChanges(ctx, changes);
    await runCommandChanges(ctx, 'sysctl', changes, (argv) => (argv[2].startsWith('net.bridge') ? 'the key exists only once br_netfilter is loaded: check the modules step' : argv[2].startsWith('net.ipv6') ? 'IPv6 may be disabled on this host (ipv6.disable=1 on the kernel command line): enable it for an IPv6 cluster' : 'inside a container /proc/sys may be read-only: set it on the host'));
  },
};

// Every file applied after ours that sets one of our keys to another value is
// neutralised (boot-config.ts: the line commented out, or the package's file masked).
async function neutraliseOverrides(ctx: StepContext, wanted: Record<string, string>): Promise<Change[]> {
  const found: ConfFile[] = [];
  for (const dir of SYSCTL_DIRS) {
    for (const name of await ctx.files.list(dir)) {
      const text = await ctx.files.read(`${dir}/${name}`).catch(() => null);
      if (text !== null) found.push({ path: `${dir}/${name}`, text });
    }
  }
  const main = await ctx.files.read('/etc/sysctl.conf');
  if (main !== null) found.push({ path: '/etc/sysctl.conf', text: main });
  const byFile = new Map<string, { path: string; key: string; value: string }[]>();
  for (const o of laterOverrides(found, paths.sysctlConf, wanted)) byFile.set(o.path, [...(byFile.get(o.path) ?? []), o]);
  const changes: Change[] = [];
  for (const [file, overrides] of byFile) {
    const keys = new Set(overrides.map((o) => o.key));
    const n = await neutraliseLines(ctx, found.find((f) => f.path === file)!, '/etc/sysctl.d', (line) => keys.has(sysctlKey(line) ?? ''));
    if (n.change && !changes.some((c) => c.kind === 'file' && c.path === n.target)) changes.push(n.change);
    for (const o of overrides) {
      warnOnce(
        ctx,
        `sysctl: ${o.path} sets ${o.key} = ${o.value} after ${paths.sysctlConf} (it would win at the next boot): ${n.masked ? `joinagent masks it with ${n.target}, a copy with that line commented out` : 'joinagent comments that line out'}`,
        `the original is kept in joinagent's backups; if ${o.key} must be ${o.value}, this host cannot be a Kubernetes node`,
      );
    }
  }
  return changes;
}

// The normalised key a sysctl.d line sets, or undefined for comments and blank lines.
function sysctlKey(line: string): string | undefined {
  const t = line.trim();
  if (!t || t.startsWith('#') || t.startsWith(';') || !t.includes('=')) return undefined;
  return t.slice(0, t.indexOf('=')).trim().replace(/^-/, '').replace(/\//g, '.');
}

// With forwarding on, the kernel ignores router advertisements on interfaces whose
// accept_ra is 1 (only 2 accepts them on a router): an IPv6 default route learned from
// RAs then expires after its lifetime and the node loses IPv6 beyond its link.
async function reportRouterAdvertisements(ctx: StepContext): Promise<void> {
  const r = await ctx.proc.probe('ip', ['-6', '-j', 'route', 'show', 'default'], { allowFailure: true });
  let routes: { dev?: string; protocol?: string }[] = [];
  try {
    routes = JSON.parse(r.stdout) as typeof routes;
  } catch {
    return;
  }
  for (const dev of new Set(routes.filter((x) => x.protocol === 'ra' && x.dev).map((x) => x.dev!))) {
    const acceptRa = (await ctx.files.read(`/proc/sys/net/ipv6/conf/${dev}/accept_ra`))?.trim();
    if (acceptRa === '1') {
      warnOnce(ctx, `sysctl: IPv6 forwarding makes the kernel ignore router advertisements on ${dev} (accept_ra = 1), where this node's IPv6 default route comes from: it expires after its lifetime`, `set net.ipv6.conf.${dev}.accept_ra = 2 (a file in /etc/sysctl.d/), or give ${dev} a static IPv6 default route`);
    }
  }
}
