import path from 'node:path';
import type { RegistrySettings } from '../config/types.js';

// containerd's per-registry host files (<config_path>/<registry>/hosts.toml): one per
// entry of containerd.registryMirrors. Mirrors are tried in order for pull and resolve,
// then the registry itself. Files joinagent writes carry a marker so a later run can
// remove the ones whose registry was dropped from the config, and never touches others.

export const MANAGED_MARKER = '# Managed by joinagent from containerd.registryMirrors: edits are overwritten.';
// Mirrors moved out of an old config.toml are the operator's from then on: written once, never removed.
export const MOVED_MARKER = '# Moved here by joinagent from registry.mirrors in config.toml (containerd refuses both with config_path).';

// Docker Hub's API does not live at docker.io.
export function upstreamServer(host: string): string {
  return host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`;
}

// TLS settings of one registry host as hosts.toml writes them (registries.<host>): the CA
// bundle, the client certificate and key, and skip_verify.
export function tlsLines(r: RegistrySettings | undefined, indent = ''): string[] {
  if (!r) return [];
  const out: string[] = [];
  if (r.ca) out.push(`${indent}ca = ${JSON.stringify(r.ca)}`);
  if (r.clientCert && r.clientKey) out.push(`${indent}client = [[${JSON.stringify(r.clientCert)}, ${JSON.stringify(r.clientKey)}]]`);
  if (r.skipVerify) out.push(`${indent}skip_verify = true`);
  return out;
}

export function renderHostsToml(host: string, mirrors: string[], marker = MANAGED_MARKER, registries: Record<string, RegistrySettings> = {}): string {
  const lines = [marker, `server = ${JSON.stringify(upstreamServer(host))}`, ...tlsLines(registries[host]), ''];
  // containerd 1.6 (Debian 12's) rejects a hosts.toml without any [host] table ("invalid
  // `host` tree") and silently falls back to no settings: a registry with TLS settings and
  // no mirror lists itself as its one host, with the same settings.
  if (!mirrors.length && hasTls(registries[host])) {
    lines.push(`[host.${JSON.stringify(upstreamServer(host))}]`, '  capabilities = ["pull", "resolve"]', ...tlsLines(registries[host], '  '), '');
  }
  for (const m of mirrors) {
    lines.push(`[host.${JSON.stringify(m.replace(/\/+$/, ''))}]`, '  capabilities = ["pull", "resolve"]', ...tlsLines(registries[hostOf(m)], '  '), '');
  }
  return lines.join('\n');
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

// A registry with TLS settings of its own: it gets a hosts.toml even without mirrors.
function hasTls(r: RegistrySettings | undefined): boolean {
  return tlsLines(r).length > 0;
}

export function hostsTomlPath(certsDir: string, host: string): string {
  return path.posix.join(certsDir, host, 'hosts.toml');
}

export interface HostsFile {
  content: string;
  /** Moved from config.toml: written only where no hosts.toml exists yet. */
  moved: boolean;
}

// Every hosts.toml this node should have: the configured mirrors win over mirrors moved
// out of an old config's registry.mirrors for the same registry.
export function desiredHostsFiles(certsDir: string, configured: Record<string, string[]>, legacy: Record<string, string[]> = {}, registries: Record<string, RegistrySettings> = {}): Map<string, HostsFile> {
  const out = new Map<string, HostsFile>();
  const tlsHosts = Object.keys(registries).filter((h) => hasTls(registries[h]));
  for (const host of [...new Set([...Object.keys({ ...legacy, ...configured }), ...tlsHosts])].sort()) {
    const fromConfig = configured[host]?.length ? configured[host] : undefined;
    const mirrors = fromConfig ?? legacy[host] ?? [];
    if (!mirrors.length && !hasTls(registries[host])) continue;
    const moved = !fromConfig && mirrors.length > 0 && !hasTls(registries[host]);
    out.set(hostsTomlPath(certsDir, host), { content: renderHostsToml(host, mirrors, moved ? MOVED_MARKER : MANAGED_MARKER, registries), moved });
  }
  return out;
}

// The mirrors that apply to one registry host, for messages.
export function mirrorsFor(host: string, configured: Record<string, string[]>): string[] {
  return configured[host] ?? [];
}

// Mirrors given by an IPv6 address ("http://[fd00::5]:5000"). containerd 1.x cannot load
// a hosts.toml naming one: its TOML parser (go-toml v1) stops at the ']' inside the quoted
// table key [host."http://[fd00::5]:5000"] and the whole file is ignored, so every pull
// goes to the registry itself (containerd issue #10055); 2.x parses it (go-toml v2).
export function ipv6LiteralMirrors(configured: Record<string, string[]>): string[] {
  return Object.values(configured).flat().filter((m) => {
    try {
      return new URL(m).hostname.startsWith('[');
    } catch {
      return false;
    }
  });
}
