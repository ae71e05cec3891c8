import path from 'node:path';

// containerd's per-registry host files (<config_path>/<registry>/hosts.toml): one per
// entry of containerd.registryMirrors. Mirrors are tried in order for pull and resolve,
// then the registry itself. Files joinagent writes carry a marker so a later run can
// remove the ones whose registry was dropped from the config, and never touches others.

export const MANAGED_MARKER = '# Managed by joinagent from containerd.registryMirrors: edits are overwritten.';

// Docker Hub's API does not live at docker.io.
export function upstreamServer(host: string): string {
  return host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`;
}

export function renderHostsToml(host: string, mirrors: string[]): string {
  const lines = [MANAGED_MARKER, `server = ${JSON.stringify(upstreamServer(host))}`, ''];
  for (const m of mirrors) {
    lines.push(`[host.${JSON.stringify(m.replace(/\/+$/, ''))}]`, '  capabilities = ["pull", "resolve"]', '');
  }
  return lines.join('\n');
}

export function hostsTomlPath(certsDir: string, host: string): string {
  return path.posix.join(certsDir, host, 'hosts.toml');
}

// Every hosts.toml this node should have: the configured mirrors win over mirrors moved
// out of an old config's registry.mirrors for the same registry.
export function desiredHostsFiles(certsDir: string, configured: Record<string, string[]>, legacy: Record<string, string[]> = {}): Map<string, string> {
  const all = { ...legacy, ...configured };
  const out = new Map<string, string>();
  for (const host of Object.keys(all).sort()) {
    if (all[host].length) out.set(hostsTomlPath(certsDir, host), renderHostsToml(host, all[host]));
  }
  return out;
}

// The mirrors that apply to one registry host, for messages.
export function mirrorsFor(host: string, configured: Record<string, string[]>): string[] {
  return configured[host] ?? [];
}
