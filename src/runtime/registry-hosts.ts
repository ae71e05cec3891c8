import path from 'node:path';

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

export function renderHostsToml(host: string, mirrors: string[], marker = MANAGED_MARKER): string {
  const lines = [marker, `server = ${JSON.stringify(upstreamServer(host))}`, ''];
  for (const m of mirrors) {
    lines.push(`[host.${JSON.stringify(m.replace(/\/+$/, ''))}]`, '  capabilities = ["pull", "resolve"]', '');
  }
  return lines.join('\n');
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
export function desiredHostsFiles(certsDir: string, configured: Record<string, string[]>, legacy: Record<string, string[]> = {}): Map<string, HostsFile> {
  const out = new Map<string, HostsFile>();
  for (const host of Object.keys({ ...legacy, ...configured }).sort()) {
    const fromConfig = configured[host]?.length ? configured[host] : undefined;
    const mirrors = fromConfig ?? legacy[host];
    if (!mirrors?.length) continue;
    out.set(hostsTomlPath(certsDir, host), { content: renderHostsToml(host, mirrors, fromConfig ? MANAGED_MARKER : MOVED_MARKER), moved: !fromConfig });
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
