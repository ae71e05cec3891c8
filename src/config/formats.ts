import { isIP } from 'node:net';
import { parseCidr } from './cidr.js';

// Format checks shared by the config schema; each returns a message naming the expected
// form and echoing the bad value, or undefined when the value is fine.
export const TOKEN_RE = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
export const VERSION_RE = /^v1\.(\d{1,2})\.(\d{1,3})$/;

export function checkToken(v: string): string | undefined {
  if (TOKEN_RE.test(v)) return undefined;
  // never echo a token-like value: it may be a real secret with a typo
  return 'bootstrap token must match [a-z0-9]{6}.[a-z0-9]{16} (e.g. 07401b.f395accd246ae52d); value not shown';
}

export function checkVersion(v: string): string | undefined {
  // "cluster": taken from the control plane at run time (join/cluster-version.ts)
  return VERSION_RE.test(v) || v === 'cluster' ? undefined : `"${v}" is not a Kubernetes version of the form v1.MINOR.PATCH (e.g. v1.32.11)`;
}

export function checkIP(v: string): string | undefined {
  return isIP(v) ? undefined : `"${v}" is not an IPv4 or IPv6 address`;
}

export function checkHostname(v: string): string | undefined {
  if (v.length <= 253 && /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(v)) return undefined;
  return `"${v}" is not a valid host name`;
}

export function splitHostPort(v: string): { host: string; port: number } | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(v) ?? /^([^:[\]]+):(\d+)$/.exec(v);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1], port };
}

// "[fd00::1]:6443" for IPv6, "192.168.10.100:6443" otherwise: what users and kubeadm write.
export function joinHostPort(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return `${bare.includes(':') ? `[${bare}]` : bare}:${port}`;
}

export function checkHostPort(v: string): string | undefined {
  const hp = splitHostPort(v);
  if (!hp) return `"${v}" is not host:port (e.g. 192.168.10.100:6443; IPv6 as [fd00::1]:6443)`;
  if (!isIP(hp.host) && checkHostname(hp.host)) return `"${v}": "${hp.host}" is neither an IP address nor a host name`;
  return undefined;
}

export function checkCaHash(v: string): string | undefined {
  return /^sha256:[0-9a-f]{64}$/.test(v) ? undefined : `"${v}" is not a CA pin of the form sha256:<64 lowercase hex> (print it with 'joinagent ca-hash')`;
}

export function checkAbsPath(v: string): string | undefined {
  return v.startsWith('/') ? undefined : `"${v}" is not an absolute path`;
}

export function checkUrl(v: string): string | undefined {
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:') return undefined;
  } catch {
    // fall through
  }
  return `"${v}" is not an http(s) URL`;
}

// "DE15 B144 ..." (as gpg prints it) or "DE15B144...": a v4 (40 hex digits) or v5/v6 (64)
// OpenPGP fingerprint; stored without spaces, upper case.
export function checkFingerprint(v: string): string | undefined {
  return /^([0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/.test(v.replace(/ /g, '')) ? undefined : `"${v}" is not an OpenPGP fingerprint (40 hexadecimal digits, as \`gpg --show-keys\` prints it)`;
}

export function checkUrlOrPath(v: string): string | undefined {
  return v.startsWith('/') ? undefined : checkUrl(v) ? `"${v}" is neither an http(s) URL nor an absolute path` : undefined;
}

const DURATION_RE = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
// Go-style durations ("90s", "5m", "1h30m") as kubeadm and systemd users write them.
export function parseDuration(v: string): number | undefined {
  if (!DURATION_RE.test(v)) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]];
  return total;
}

export function checkDuration(v: string): string | undefined {
  return parseDuration(v) !== undefined ? undefined : `"${v}" is not a duration (e.g. 30s, 5m, 1h30m)`;
}

export function checkTimezone(v: string): string | undefined {
  // a tz database name starts with a letter: "-05" (which ICU accepts as an offset) would
  // reach `timedatectl set-timezone` as an option
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(v) || v.includes('..')) return `"${v}" is not a time zone name (e.g. UTC, Asia/Seoul)`;
  // the canonical list costs ~3 ms; a DateTimeFormat loads ICU's locale data (~27 ms, on
  // every run's config load), so it only decides aliases and unknown names
  if (/^(Etc\/)?(UTC|GMT)$/.test(v) || Intl.supportedValuesOf('timeZone').includes(v)) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: v });
    return undefined;
  } catch {
    return `"${v}" is not a known time zone (e.g. UTC, Asia/Seoul)`;
  }
}

export function checkPortSpec(v: string): string | undefined {
  const m = /^(\d+)(?:-(\d+))?\/(tcp|udp)$/.exec(v);
  if (!m) return `"${v}" is not a port rule of the form PORT/PROTO or FROM-TO/PROTO (e.g. 10250/tcp, 30000-32767/udp)`;
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a < 1 || b > 65535 || b < a) return `"${v}": port range out of order or outside 1-65535`;
  return undefined;
}

// auto | interface:NAME | an IP | "IPv4,IPv6" (kubelet's dual-stack --node-ip)
export function checkNodeIP(v: string): string | undefined {
  if (v === 'auto' || isIP(v)) return undefined;
  // not starting with "-": the name is an argument of `ip ... dev NAME`
  if (/^interface:[A-Za-z0-9_@][A-Za-z0-9_.@-]{0,14}$/.test(v)) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  if (parts.length === 2 && parts.every((p) => isIP(p))) {
    return isIP(parts[0]) !== isIP(parts[1]) ? undefined : `"${v}": two node IPs must be of different families (one IPv4, one IPv6)`;
  }
  return `"${v}" is not auto, an IP address, or interface:NAME (dual-stack: two addresses, "IPv4,IPv6")`;
}

export function checkImageRepository(v: string): string | undefined {
  if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9._-]+)*$/.test(v)) return undefined;
  return `"${v}" is not an image repository (e.g. registry.k8s.io or mirror.example:5000/k8s; no scheme)`;
}

export function checkRegistryHost(v: string): string | undefined {
  if (v === '_default' || /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?$/.test(v)) return undefined;
  return `"${v}" is not a registry host name (e.g. registry.k8s.io, docker.io)`;
}

// kubeadm turns each kubeletExtraArgs name into --NAME=VALUE on the kubelet's command line
export function checkFlagName(v: string): string | undefined {
  return /^[a-z0-9][a-z0-9-]*$/.test(v) ? undefined : `"${v}" is not a kubelet flag name (e.g. node-ip, without the leading --)`;
}

export function checkPackageVersion(v: string): string | undefined {
  return /^[0-9][0-9A-Za-z.+~:-]*$/.test(v) ? undefined : `"${v}" is not a package version (e.g. 2.1.5 or 1.7.24-1)`;
}

// kubeadm's ValidateDiscoveryKubeConfigPath, plus: a file path must be absolute (a daemon
// has no meaningful working directory).
export function checkKubeConfigPath(v: string): string | undefined {
  if (v.startsWith('/')) return undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(v)) return /^https:\/\//i.test(v) ? undefined : `"${v}": if a URL is used, the scheme must be https (kubeadm)`;
  return `"${v}" is neither an absolute path nor an https:// URL`;
}

export const isHttpsUrl = (v: string): boolean => /^https:\/\//i.test(v);

// A proxy URL as curl, apt and Go read it: http(s)://[user:password@]host:port. The
// password is never echoed back (it is a secret like the bootstrap token).
export function checkProxyUrl(v: string): string | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `"${maskUrlCredentials(v)}" is not a proxy URL (e.g. http://proxy.example:3128)`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${maskUrlCredentials(v)}": a proxy URL is http:// or https:// (e.g. http://proxy.example:3128)`;
  if (u.pathname !== '/' || u.search || u.hash) return `"${maskUrlCredentials(v)}": a proxy URL has no path or query, only scheme, host and port`;
  return undefined;
}

// scheme://user:password@host -> scheme://user:<redacted>@host, for messages and diffs.
export function maskUrlCredentials(v: string): string {
  return v.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, '$1:<redacted>@');
}

// A NO_PROXY entry as Go's net/http/httpproxy understands it: a host name or domain
// suffix (.corp.example), an IP, a CIDR, optionally with :port, or "*".
export function checkNoProxyEntry(v: string): string | undefined {
  if (v === '*' || checkCidr(v) === undefined || isIP(v)) return undefined;
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(v);
  const host = m?.[1]?.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
  if (host && (isIP(host) || !checkHostname(host))) return undefined;
  return `"${v}" is not a noProxy entry (a host name, a .domain suffix, an IP, a CIDR such as 10.96.0.0/12, optionally :port)`;
}

export function checkCidr(v: string): string | undefined {
  return parseCidr(v) ? undefined : `"${v}" is not a CIDR (e.g. 10.244.0.0/16 or fd00:10:244::/56)`;
}

// A package repository: http(s), or a directory on this host (an unpacked joinagent
// bundle, a local mirror) as file:///dir or /dir.
export function checkRepoUrl(v: string): string | undefined {
  if (localRepoDir(v) !== undefined) return undefined;
  return checkUrl(v) ? `"${v}" is neither an http(s) URL nor a local directory (file:///path or /path)` : undefined;
}

// The directory of a local repository URL (always ending in "/"), or undefined for http(s).
export function localRepoDir(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const p = v.startsWith('file://') ? decodeURIComponent(v.slice('file://'.length)) : v;
  if (!p.startsWith('/') || p.includes('/../') || p.endsWith('/..')) return undefined;
  return p.endsWith('/') ? p : `${p}/`;
}
