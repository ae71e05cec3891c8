import type { RegistrySettings } from '../config/types.js';
import { CRI_PLUGINS, configVersion } from './containerd-settings.js';
import { isTable, tableAt, type TomlTable } from './toml.js';

// Registry credentials in containerd's CRI registry config
// (plugins.<images>.registry.configs."<host>".auth: username/password or identitytoken).
// hosts.toml has no place for credentials; containerd's CRI looks them up by the host it
// is talking to, so a mirror's credentials are keyed by the mirror's host. The file then
// holds secrets: containerd-config writes it 0600.

export type RegistryAuth = { username: string; password: string } | { identitytoken: string };

export function registryAuths(registries: Record<string, RegistrySettings>): Record<string, RegistryAuth> {
  const out: Record<string, RegistryAuth> = {};
  for (const [host, r] of Object.entries(registries)) {
    if (r.token) out[host] = { identitytoken: r.token };
    else if (r.username && r.password !== undefined) out[host] = { username: r.username, password: r.password };
  }
  return out;
}

// Sets the auth table of each configured host; auth of hosts not in the config is the
// operator's and stays. Returns what changed, in words without the secrets.
export function ensureRegistryAuth(doc: TomlTable, auths: Record<string, RegistryAuth>): string[] {
  const version = configVersion(doc) === 3 ? 3 : 2;
  const changes: string[] = [];
  for (const [host, auth] of Object.entries(auths).sort(([a], [b]) => a.localeCompare(b))) {
    const cfg = tableAt(doc, ['plugins', CRI_PLUGINS[version].images, 'registry', 'configs', host]);
    const current = isTable(cfg.auth) ? cfg.auth : undefined;
    const wanted: TomlTable = { ...auth };
    if (current && JSON.stringify(sorted(current)) === JSON.stringify(sorted(wanted))) continue;
    cfg.auth = wanted;
    changes.push(`registry credentials for ${host} (${'identitytoken' in auth ? 'token' : `user ${auth.username}`})`);
  }
  return changes;
}

function sorted(t: TomlTable): [string, unknown][] {
  return Object.entries(t).sort(([a], [b]) => a.localeCompare(b));
}

// What plan, logs and /status may show of config.toml: the credential values masked.
export function maskRegistrySecrets(text: string): string {
  return text.replace(/^(\s*(?:password|identitytoken|auth|registrytoken)\s*=\s*).*$/gm, '$1"<redacted>"');
}
