import type { CriWanted } from './containerd-settings.js';

// What containerd actually runs with, read from CRI Status(verbose).info["config"] (the
// JSON kubelet/crictl info show). The file can say one thing while a containerd that was
// never restarted, or that reads another file, does another: this is the proof.

export interface EffectiveCri {
  systemdCgroup?: boolean;
  sandboxImage?: string;
}

export function effectiveCriConfig(info: Record<string, string>): EffectiveCri | null {
  if (!info.config) return null;
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(info.config) as Record<string, unknown>;
  } catch {
    return null;
  }
  const containerd = (cfg.containerd ?? {}) as { defaultRuntimeName?: string; runtimes?: Record<string, { options?: Record<string, unknown> }> };
  const runtimes = containerd.runtimes ?? {};
  const runc = runtimes.runc ?? runtimes[containerd.defaultRuntimeName ?? ''];
  const systemd = runc?.options?.SystemdCgroup;
  // containerd 1.x reports sandboxImage; 2.x keeps it and also has pinnedImages.sandbox
  const pinned = (cfg.pinnedImages ?? {}) as { sandbox?: string };
  const sandbox = (cfg.sandboxImage as string | undefined) ?? pinned.sandbox;
  return { systemdCgroup: typeof systemd === 'boolean' ? systemd : undefined, sandboxImage: sandbox };
}

// Live values that differ from what this node needs; unknown values (an older runtime
// that does not report them) are not counted as differences.
export function effectiveDifferences(eff: EffectiveCri, wanted: CriWanted): { name: string; live: string; wanted: string }[] {
  const out: { name: string; live: string; wanted: string }[] = [];
  const systemd = wanted.systemdCgroup ?? true;
  if (eff.systemdCgroup !== undefined && eff.systemdCgroup !== systemd) out.push({ name: 'containerd SystemdCgroup (live)', live: String(eff.systemdCgroup), wanted: String(systemd) });
  if (eff.sandboxImage !== undefined && eff.sandboxImage !== wanted.sandboxImage) out.push({ name: 'containerd sandbox image (live)', live: eff.sandboxImage, wanted: wanted.sandboxImage });
  return out;
}
