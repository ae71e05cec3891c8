import { isIP } from 'node:net';
import { maskUrlCredentials, splitHostPort } from '../config/formats.js';
import type { LoadedConfig, ProxyConfig } from '../config/types.js';

// The proxy as every consumer on the node sees it, as pure functions of the config and
// the node's addresses: the NO_PROXY list, the environment of containerd and kubelet
// (systemd drop-ins), apt's and dnf's settings, and the per-URL decision the agent's own
// HTTP clients make. Semantics follow Go's net/http/httpproxy, which containerd, kubelet
// and kubeadm use: host suffixes, IPs, CIDRs, host:port.

// Always direct, whatever the operator lists: the node itself, the API server (kubeadm
// and kubelet must never reach it through a proxy: kubeadm's preflight warns about it)
// and in-cluster names.
export const ALWAYS_DIRECT = ['localhost', '127.0.0.1', '::1', '.svc', '.svc.cluster.local'];

export interface ProxyView {
  http?: string;
  https?: string;
  noProxy: string[];
}

// The NO_PROXY list: the fixed entries, the API server, this node's addresses and host
// name, the cluster CIDRs (proxy.clusterCIDRs and networking's pod and service subnets),
// then the operator's own entries; deduplicated, order kept.
export function noProxyList(p: ProxyConfig, apiServerEndpoint: string, nodeAddresses: string[], hostname?: string, subnets: string[] = []): string[] {
  const api = splitHostPort(apiServerEndpoint)?.host.replace(/^\[|\]$/g, '');
  const all = [...ALWAYS_DIRECT, ...(api ? [api] : []), ...nodeAddresses, ...(hostname ? [hostname] : []), ...p.clusterCIDRs, ...subnets, ...p.noProxy];
  return [...new Set(all.filter(Boolean))];
}

export function proxyView(config: LoadedConfig, nodeAddresses: string[], hostname?: string): ProxyView | undefined {
  const p = config.agent.proxy;
  if (!p) return undefined;
  const { podSubnet, serviceSubnet } = config.agent.networking;
  const subnets = [podSubnet, serviceSubnet].flatMap((v) => (v ? v.split(',').map((c) => c.trim()) : []));
  return { http: p.http, https: p.https, noProxy: noProxyList(p, config.join.apiServerEndpoint, nodeAddresses, hostname, subnets) };
}

// Environment for processes that read the proxy from it (Go programs, curl, apt, kubeadm).
// Both spellings: Go reads either, curl only lower-case http_proxy.
export function proxyEnv(v: ProxyView): Record<string, string> {
  const env: Record<string, string> = {};
  if (v.http) Object.assign(env, { HTTP_PROXY: v.http, http_proxy: v.http });
  if (v.https) Object.assign(env, { HTTPS_PROXY: v.https, https_proxy: v.https });
  const no = v.noProxy.join(',');
  return { ...env, NO_PROXY: no, no_proxy: no };
}

// A systemd drop-in giving a service the proxy environment. systemd's Environment=
// takes "KEY=value" words in double quotes; backslash and quote are escaped, and % is
// doubled (specifier expansion).
export function renderProxyDropIn(v: ProxyView, unit: string): string {
  const env = proxyEnv(v);
  const words = Object.entries(env).map(([k, val]) => `"${`${k}=${val}`.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`);
  return [`# Managed by joinagent from proxy: ${unit} reaches registries and the internet through the proxy.`, '[Service]', ...words.map((w) => `Environment=${w}`), ''].join('\n');
}

// apt has one proxy per scheme and per-host exceptions ("DIRECT"), no suffixes or CIDRs:
// the exact host names and IPv4 addresses of NO_PROXY become DIRECT entries (an IPv6
// address cannot be written there: "::" separates apt's configuration scopes).
export function renderAptProxy(v: ProxyView): string {
  const lines = ['// Managed by joinagent from proxy: edits are overwritten.'];
  if (v.http) lines.push(`Acquire::http::Proxy "${v.http}";`);
  if (v.https) lines.push(`Acquire::https::Proxy "${v.https}";`);
  for (const h of v.noProxy.filter((e) => !e.startsWith('.') && !e.includes('/') && !e.includes('*') && !e.includes(':'))) {
    if (v.http) lines.push(`Acquire::http::Proxy::${h} "DIRECT";`);
    if (v.https) lines.push(`Acquire::https::Proxy::${h} "DIRECT";`);
  }
  return lines.join('\n') + '\n';
}

// dnf reads one proxy (for every scheme) from [main] of dnf.conf, credentials in their
// own keys. An https proxy setting wins: package repositories are https on RHEL.
export function dnfProxySettings(v: ProxyView | undefined): Record<string, string | null> {
  const url = v?.https ?? v?.http;
  if (!url) return { proxy: null, proxy_username: null, proxy_password: null };
  const u = new URL(url);
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return { proxy: u.toString().replace(/\/$/, ''), proxy_username: user || null, proxy_password: pass || null };
}

// Sets or removes keys of one [section] in an INI file (dnf.conf), keeping every other
// line, comment and section as it is; absent keys are appended to the section.
export function editIniSection(text: string, section: string, keys: Record<string, string | null>): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  let start = lines.findIndex((l) => l.trim() === `[${section}]`);
  if (start < 0) {
    if (Object.values(keys).every((v) => v === null)) return text;
    lines.push(...(lines.length ? [''] : []), `[${section}]`);
    start = lines.length - 1;
  }
  let end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  if (end < 0) end = lines.length;
  const body = lines.slice(start + 1, end);
  const done = new Set<string>();
  const kept = body.flatMap((l) => {
    const k = /^\s*([A-Za-z0-9_.-]+)\s*=/.exec(l)?.[1];
    if (!k || !(k in keys)) return [l];
    done.add(k);
    return keys[k] === null ? [] : [`${k}=${keys[k]}`];
  });
  const added = Object.entries(keys).filter(([k, v]) => !done.has(k) && v !== null).map(([k, v]) => `${k}=${v}`);
  // new keys go after the section's last setting, before trailing blank lines
  let at = kept.length;
  while (at > 0 && kept[at - 1].trim() === '') at--;
  kept.splice(at, 0, ...added);
  return [...lines.slice(0, start + 1), ...kept, ...lines.slice(end)].join('\n') + '\n';
}

// Whether a request to this URL goes through the proxy, and which one (Go's rules:
// NO_PROXY matches the host as written in the URL, not what it resolves to).
export function proxyFor(url: string, v: ProxyView | undefined): string | undefined {
  if (!v) return undefined;
  const u = new URL(url);
  const proxy = u.protocol === 'https:' ? v.https : u.protocol === 'http:' ? v.http : undefined;
  if (!proxy) return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return v.noProxy.some((e) => noProxyMatches(e, host, port)) ? undefined : proxy;
}

export function noProxyMatches(entry: string, host: string, port: string): boolean {
  if (entry === '*') return true;
  if (entry.includes('/')) return isIP(host) > 0 && inCidr(host, entry);
  const m = /^(\[[^\]]+\]|[^:]+|[0-9a-fA-F:]+)(?::(\d+))?$/.exec(entry);
  let h = (m?.[1] ?? entry).replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(entry)) h = entry.toLowerCase();
  const p = isIP(entry) ? undefined : m?.[2];
  if (p && p !== port) return false;
  if (isIP(h) || isIP(host)) return h === host;
  h = h.replace(/^\*?\./, '');
  return host === h || host.endsWith(`.${h}`);
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const a = ipBytes(ip);
  const b = ipBytes(net);
  if (!a || !b || a.length !== b.length) return false;
  let n = Number(bits);
  for (let i = 0; i < a.length && n > 0; i++, n -= 8) {
    const mask = n >= 8 ? 0xff : (0xff << (8 - n)) & 0xff;
    if ((a[i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}

function ipBytes(ip: string): number[] | undefined {
  if (isIP(ip) === 4) return ip.split('.').map(Number);
  if (isIP(ip) !== 6) return undefined;
  const [head, tail = ''] = ip.split('::');
  const parts = (s: string) => (s ? s.split(':') : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

// What /status and plan show of the proxy: URLs with the password masked.
export function describeProxy(v: ProxyView): { http?: string; https?: string; noProxy: string[] } {
  return { http: v.http && maskUrlCredentials(v.http), https: v.https && maskUrlCredentials(v.https), noProxy: v.noProxy };
}
