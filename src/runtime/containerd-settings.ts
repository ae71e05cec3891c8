import { cloneToml, deepMerge, isTable, tableAt, valueAt, type TomlTable } from './toml.js';

// Desired state of /etc/containerd/config.toml as pure functions of (current file,
// containerd's own defaults, what this node needs). Everything else in the file is the
// operator's and is kept.

export interface CriWanted {
  /** The pause image this agent pulls; containerd must use the same for pod sandboxes. */
  sandboxImage: string;
  /** Where per-registry hosts.toml files live (config_path). */
  certsDir: string;
  /** runc's SystemdCgroup: the kubelet's cgroup driver is systemd (the default, kubeadm's). */
  systemdCgroup?: boolean;
}

// Plugin ids of the CRI settings, per config version: containerd 1.6/1.7 write version 2
// (one "io.containerd.grpc.v1.cri" plugin), containerd 2.x writes version 3 (split into a
// runtime and an images plugin).
export const CRI_PLUGINS = {
  2: { runtime: 'io.containerd.grpc.v1.cri', images: 'io.containerd.grpc.v1.cri' },
  3: { runtime: 'io.containerd.cri.v1.runtime', images: 'io.containerd.cri.v1.images' },
} as const;

// Names under which the CRI plugin can be disabled (v1 short name, v2 id, v3 ids).
const CRI_PLUGIN_NAMES = ['cri', 'io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.runtime', 'io.containerd.cri.v1.images'];

export function configVersion(doc: TomlTable): number {
  const v = doc.version;
  return typeof v === 'bigint' || typeof v === 'number' ? Number(v) : 1;
}

// Version 1 (no `version` key, e.g. Docker's containerd.io file) or a file without any CRI
// section is "partial": it is rebuilt from `containerd config default` so the node gets
// the same complete file the runbook's `containerd config default >` would give.
export function needsDefaultConfig(doc: TomlTable | null): boolean {
  if (doc === null) return true;
  const version = configVersion(doc);
  if (version < 2) return true;
  const ids = CRI_PLUGINS[version === 3 ? 3 : 2];
  return !isTable(valueAt(doc, ['plugins', ids.runtime])) && !isTable(valueAt(doc, ['plugins', ids.images]));
}

export interface MergeResult {
  doc: TomlTable;
  /** True when the result is containerd's default with the operator's settings on top. */
  regenerated: boolean;
  notes: string[];
}

// Puts the operator's settings back on top of containerd's default config. Plugin
// settings written for another config version cannot be laid over the default safely;
// then the operator's file is kept as the base (as version 2, which every containerd
// from 1.6 to 2.x reads) and only the CRI essentials are added by ensureCriConfig.
export function mergeOverDefault(defaults: TomlTable, user: TomlTable | null): MergeResult {
  if (user === null) return { doc: cloneToml(defaults), regenerated: true, notes: ['no config: generated from `containerd config default`'] };
  const userVersion = configVersion(user);
  const defVersion = configVersion(defaults);
  const { version: _v, plugins, ...rest } = user;
  let userPlugins = isTable(plugins) ? plugins : {};
  const notes: string[] = [];
  if (userVersion < 2 && isTable(userPlugins.cri)) {
    // config version 1 names the CRI plugin "cri"; version 2 calls it io.containerd.grpc.v1.cri
    const { cri, ...others } = userPlugins;
    userPlugins = { ...others, [CRI_PLUGINS[2].runtime]: cri };
    notes.push('config version 1: plugins.cri renamed to plugins."io.containerd.grpc.v1.cri"');
  }
  const pluginVersion = userVersion < 2 ? 2 : userVersion;
  if (Object.keys(userPlugins).length > 0 && pluginVersion !== defVersion) {
    notes.push(`kept the existing file as config version ${pluginVersion}: its plugin settings cannot be merged into containerd's version ${defVersion} defaults`);
    return { doc: { ...cloneToml(rest), version: BigInt(pluginVersion), plugins: cloneToml(userPlugins) }, regenerated: false, notes };
  }
  const doc = deepMerge(defaults, { ...rest, plugins: userPlugins });
  doc.version = defaults.version ?? BigInt(defVersion);
  notes.unshift('partial config: regenerated from `containerd config default`, existing settings kept');
  return { doc, regenerated: true, notes };
}

export interface EnsureResult {
  doc: TomlTable;
  /** What had to change, in words (empty = already right). */
  changes: string[];
  /** Legacy registry.mirrors moved out of the file (they conflict with config_path). */
  legacyMirrors: Record<string, string[]>;
}

// The four things this node needs from containerd, set structurally whatever the rest of
// the file says: CRI enabled, runc with systemd cgroups (inserted when absent: containerd
// 2.x's default omits the key, so the runbook's sed does nothing), the sandbox image, and
// registry hosts from config_path.
export function ensureCriConfig(input: TomlTable, wanted: CriWanted, runtime?: RuntimeVersion): EnsureResult {
  const doc = cloneToml(input);
  const changes: string[] = [];
  const version = configVersion(doc) === 3 ? 3 : 2;
  const ids = CRI_PLUGINS[version];

  const disabled = Array.isArray(doc.disabled_plugins) ? (doc.disabled_plugins as unknown[]) : [];
  const keep = disabled.filter((p) => !CRI_PLUGIN_NAMES.includes(String(p)));
  if (keep.length !== disabled.length) {
    doc.disabled_plugins = keep;
    changes.push(`enable the CRI plugin (remove ${disabled.filter((p) => !keep.includes(p)).join(', ')} from disabled_plugins)`);
  }

  const runc = tableAt(doc, ['plugins', ids.runtime, 'containerd', 'runtimes', 'runc']);
  if (runc.runtime_type === undefined) runc.runtime_type = 'io.containerd.runc.v2';
  const options = tableAt(runc, ['options']);
  // the kubelet's cgroup driver decides (kubelet.cgroupDriver; systemd unless set)
  const systemd = wanted.systemdCgroup ?? true;
  if (options.SystemdCgroup !== systemd) {
    changes.push(`SystemdCgroup = ${systemd} on the runc runtime (was ${options.SystemdCgroup === undefined ? 'absent' : String(options.SystemdCgroup)})`);
    options.SystemdCgroup = systemd;
  }

  const sandboxPath = version === 3 ? ['plugins', ids.images, 'pinned_images'] : ['plugins', ids.runtime];
  const sandboxKey = version === 3 ? 'sandbox' : 'sandbox_image';
  const sandboxTable = tableAt(doc, sandboxPath);
  if (sandboxTable[sandboxKey] !== wanted.sandboxImage) {
    changes.push(`sandbox image ${String(sandboxTable[sandboxKey] ?? '(default)')} -> ${wanted.sandboxImage}`);
    sandboxTable[sandboxKey] = wanted.sandboxImage;
  }

  const registry = tableAt(doc, ['plugins', ids.images, 'registry']);
  // Exactly one directory: containerd 2.1+ pulls through the transfer service, which takes
  // config_path as one directory (2.2's default "certs.d:/etc/docker/certs.d" finds no
  // hosts.toml at all there); a node upgraded from 1.x in place must not break either.
  if (registry.config_path !== wanted.certsDir) {
    const others = typeof registry.config_path === 'string' ? registry.config_path.split(':').filter((p) => p && p !== wanted.certsDir) : [];
    changes.push(`registry config_path ${JSON.stringify(registry.config_path ?? '')} -> ${JSON.stringify(wanted.certsDir)}${others.length ? ` (hosts.toml files under ${others.join(', ')} are no longer read: containerd 2.1+ reads one directory)` : ''}`);
    registry.config_path = wanted.certsDir;
  }
  // containerd refuses `mirrors` next to config_path: move them into hosts.toml files.
  const legacyMirrors: Record<string, string[]> = {};
  if (isTable(registry.mirrors) && Object.keys(registry.mirrors).length > 0) {
    for (const [host, m] of Object.entries(registry.mirrors)) {
      const endpoints = isTable(m) && Array.isArray(m.endpoint) ? m.endpoint.map(String) : [];
      if (endpoints.length) legacyMirrors[host] = endpoints;
    }
    delete registry.mirrors;
    changes.push(`move registry.mirrors (${Object.keys(legacyMirrors).join(', ')}) to ${wanted.certsDir}/<host>/hosts.toml`);
  }
  moveDownloadConcurrency(doc, ids.images, runtime, changes);
  return { doc, changes, legacyMirrors };
}

export interface RuntimeVersion {
  major: number;
  minor: number;
}

export const TRANSFER_PLUGIN = 'io.containerd.transfer.v1.local';

// containerd 2.1+ falls back to the old local pull for the CRI when the images plugin
// sets max_concurrent_downloads to anything but 3: the setting belongs to the transfer
// service there. Moved, the operator's limit still applies and the pull path stays the
// one containerd documents (and mirrors are read the way this agent configures them).
function moveDownloadConcurrency(doc: TomlTable, imagesId: string, runtime: RuntimeVersion | undefined, changes: string[]): void {
  if (!runtime || !transferCapable(runtime)) return;
  const images = valueAt(doc, ['plugins', imagesId]);
  if (!isTable(images) || images.max_concurrent_downloads === undefined || Number(images.max_concurrent_downloads) === 3) return;
  const n = images.max_concurrent_downloads;
  delete images.max_concurrent_downloads;
  tableAt(doc, ['plugins', TRANSFER_PLUGIN]).max_concurrent_downloads = n;
  changes.push(`max_concurrent_downloads = ${String(n)} moved from the CRI images plugin to plugins."${TRANSFER_PLUGIN}" (containerd ${runtime.major}.${runtime.minor} would otherwise fall back to the local pull)`);
}

// containerd 2.1 is the first whose CRI pulls through the transfer service.
export function transferCapable(v: RuntimeVersion): boolean {
  return v.major > 2 || (v.major === 2 && v.minor >= 1);
}

// containerd also refuses TLS settings in registry.configs next to config_path; those
// belong in hosts.toml (ca, client, skip_verify) and only the operator knows the files.
export function tlsConflicts(doc: TomlTable): string[] {
  const version = configVersion(doc) === 3 ? 3 : 2;
  const configs = valueAt(doc, ['plugins', CRI_PLUGINS[version].images, 'registry', 'configs']);
  if (!isTable(configs)) return [];
  return Object.entries(configs)
    .filter(([, c]) => isTable(c) && isTable(c.tls) && Object.keys(c.tls).length > 0)
    .map(([host]) => host);
}
