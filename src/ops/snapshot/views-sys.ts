import type { Files } from '../../host/files.js';
import { isNoisySysctl } from '../diff/noise.js';
import { missingView, okView, type View } from './types.js';

const MAX_SYSCTLS = 20000;

// `sysctl -a` by walking /proc/sys: every readable file; write-only and unreadable ones
// (stable_secret, vm.compact_memory) are skipped, and so are the values that change on
// every read (kernel.random.uuid): they would only be noise. Directory types come from
// readdir and the values are read in one batch: this runs ahead of a run's first change.
export async function sysctlsView(files: Files, sysctlRoot: string): Promise<View> {
  if ((await files.lstat(sysctlRoot))?.type !== 'dir') return missingView(`no ${sysctlRoot} (is /proc mounted?)`);
  const wanted: [key: string, file: string][] = [];
  let truncated = false;
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const { name, type } of await files.listTyped(dir).catch(() => [])) {
      if (wanted.length >= MAX_SYSCTLS) {
        truncated = true;
        return;
      }
      // as sysctl(8): a dot inside a component (flannel.1) is written as a slash
      const key = prefix ? `${prefix}.${name.replace(/\./g, '/')}` : name.replace(/\./g, '/');
      if (type === 'dir') await walk(`${dir}/${name}`, key);
      else if (type === 'file' && !isNoisySysctl(key)) wanted.push([key, `${dir}/${name}`]);
    }
  };
  await walk(sysctlRoot, '');
  const values = await files.readSmall(wanted.map(([, f]) => f));
  const items: Record<string, string> = {};
  wanted.forEach(([key], i) => {
    if (values[i] !== null) items[key] = values[i]!.trim().replace(/\s+/g, ' ');
  });
  return okView(sysctlRoot, items, { truncated });
}

// `systemd-cgls` as a tree of cgroup names, depth-limited (pod and container scopes of
// the kubepods slices are at depth 4).
export async function cgroupsView(files: Files, cgroupRoot: string, depth = 4): Promise<View> {
  if ((await files.lstat(cgroupRoot))?.type !== 'dir') return missingView(`no ${cgroupRoot}`);
  const items: Record<string, string> = {};
  const walk = async (dir: string, rel: string, level: number): Promise<void> => {
    for (const name of await files.list(dir).catch(() => [])) {
      const p = `${dir}/${name}`;
      if ((await files.lstat(p).catch(() => null))?.type !== 'dir') continue;
      const key = rel ? `${rel}/${name}` : name;
      items[key] = 'cgroup';
      if (level < depth && Object.keys(items).length < 5000) await walk(p, key, level + 1);
    }
  };
  await walk(cgroupRoot, '', 1);
  return okView(`${cgroupRoot} (depth ${depth})`, items);
}

// Addresses without the `ip` tool: links from /sys/class/net, IPv6 from
// /proc/net/if_inet6, IPv4 local addresses from /proc/net/fib_trie (no interface there).
export async function addressesFromKernel(files: Files, procRoot: string, sysClassNet: string): Promise<View> {
  const items: Record<string, string> = {};
  const ifaces = await files.list(sysClassNet);
  for (const ifname of ifaces) {
    const read = async (f: string): Promise<string> => ((await files.read(`${sysClassNet}/${ifname}/${f}`).catch(() => null)) ?? '?').trim();
    items[ifname] = `${await read('operstate')} mtu ${await read('mtu')} ${await read('address')}`;
  }
  const inet6 = await files.read(`${procRoot}/net/if_inet6`).catch(() => null);
  for (const line of (inet6 ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const addr = f[0].match(/.{4}/g)!.map((w) => parseInt(w, 16).toString(16)).join(':');
    items[`${f[5]} inet6 ${addr}/${parseInt(f[2], 16)}`] = `scope ${f[3]}`;
  }
  const trie = await files.read(`${procRoot}/net/fib_trie`).catch(() => null);
  for (const ip of localIpv4(trie ?? '')) items[`inet ${ip}`] = 'local';
  if (ifaces.length === 0 && inet6 === null && trie === null) return missingView(`no ip tool, no ${sysClassNet} and no ${procRoot}/net`);
  return okView(`${sysClassNet}, ${procRoot}/net/if_inet6, ${procRoot}/net/fib_trie`, items);
}

// fib_trie lists a local address as "|-- A.B.C.D" followed by "/32 host LOCAL".
export function localIpv4(trie: string): string[] {
  const out = new Set<string>();
  const lines = trie.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const m = /\|--\s+(\d+\.\d+\.\d+\.\d+)/.exec(lines[i]);
    if (m && /\/32 host LOCAL/.test(lines[i + 1])) out.add(m[1]);
  }
  return [...out].sort();
}
