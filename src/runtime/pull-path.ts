import { CRI_PLUGINS, configVersion, transferCapable, type RuntimeVersion } from './containerd-settings.js';
import { isTable, valueAt, type TomlTable } from './toml.js';

// Which way the CRI pulls images on this containerd, from its config: the transfer
// service (containerd 2.1+, the default) or the old client-side ("local") pull. They read
// different settings (download concurrency lives in io.containerd.transfer.v1.local for
// one, in the CRI images plugin for the other), so an operator needs to know which.

export interface PullPath {
  mode: 'transfer' | 'local';
  /** Why the local pull is in effect (absent for transfer). */
  reason?: string;
}

// containerd 2.1's CheckLocalImagePullConfigs: any of these makes the CRI images plugin
// fall back to the local pull, with a warning in containerd's log only.
const LOCAL_ONLY: { key: string[]; forces: (v: unknown) => boolean; why: string }[] = [
  { key: ['disable_snapshot_annotations'], forces: (v) => v === false, why: 'disable_snapshot_annotations = false (snapshot annotations move to the snapshotter with the transfer service)' },
  { key: ['discard_unpacked_layers'], forces: (v) => v === true, why: 'discard_unpacked_layers = true (not supported by the transfer service)' },
  { key: ['registry', 'mirrors'], forces: nonEmpty, why: 'registry.mirrors is set (use hosts.toml under config_path)' },
  { key: ['registry', 'configs'], forces: nonEmpty, why: 'registry.configs is set (use hosts.toml under config_path)' },
  { key: ['registry', 'auths'], forces: nonEmpty, why: 'registry.auths is set (use hosts.toml or image pull secrets)' },
  { key: ['max_concurrent_downloads'], forces: (v) => v !== undefined && Number(v) !== 3, why: 'max_concurrent_downloads is not 3 (set it in plugins."io.containerd.transfer.v1.local")' },
  { key: ['image_pull_with_sync_fs'], forces: (v) => v === true, why: 'image_pull_with_sync_fs = true (not supported by the transfer service)' },
];

function nonEmpty(v: unknown): boolean {
  return isTable(v) && Object.keys(v).length > 0;
}

export function pullPath(doc: TomlTable, runtime: RuntimeVersion): PullPath {
  if (!transferCapable(runtime)) return { mode: 'local', reason: `containerd ${runtime.major}.${runtime.minor} has no CRI pull through the transfer service (2.1+)` };
  const images = valueAt(doc, ['plugins', CRI_PLUGINS[configVersion(doc) === 3 ? 3 : 2].images]);
  const cfg = isTable(images) ? images : {};
  if (cfg.use_local_image_pull === true) return { mode: 'local', reason: 'use_local_image_pull = true' };
  for (const c of LOCAL_ONLY) if (c.forces(valueAt(cfg, c.key))) return { mode: 'local', reason: c.why };
  return { mode: 'transfer' };
}

// "containerd github.com/containerd/containerd/v2 2.1.9+unknown ..." or
// "containerd containerd.io 1.7.27 05044ec..." -> { major, minor }.
export function parseContainerdVersion(text: string): RuntimeVersion | undefined {
  const m = /\bv?(\d+)\.(\d+)\.\d+/.exec(text.replace(/github\.com\/\S+/, ''));
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}
