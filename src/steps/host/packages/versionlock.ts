import { parse } from 'smol-toml';
import type { StepContext } from '../../../engine/step.js';

// dnf's package holds. dnf 4 keeps them in the versionlock plugin's list (one NEVRA
// pattern a line, "kubelet-0:1.32.11-150500.1.1.*"); dnf5 has the command built in and
// keeps /etc/dnf/versionlock.toml ([[packages]] name + conditions evr = ...).
export const DNF4_LOCKLIST = '/etc/dnf/plugins/versionlock.list';
export const DNF5_LOCKFILE = '/etc/dnf/versionlock.toml';

// Rocky/RHEL ship dnf 4's versionlock as its own package; dnf5 needs none.
export const DNF4_VERSIONLOCK_PACKAGE = 'python3-dnf-plugin-versionlock';

// name -> version-release locked, from either file's text.
export function lockedVersions(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  if (file.endsWith('.toml')) {
    let doc: { packages?: { name?: string; conditions?: { key?: string; comparator?: string; value?: string }[] }[] };
    try {
      doc = parse(text) as typeof doc;
    } catch {
      return out;
    }
    for (const p of doc.packages ?? []) {
      const evr = p.conditions?.find((c) => c.key === 'evr' && (c.comparator ?? '=') === '=')?.value;
      if (p.name && evr) out.set(p.name, evr.replace(/^\d+:/, ''));
    }
    return out;
  }
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^(.+)-(?:\d+:)?([^-]+)-([^-]+?)(?:\.\*|\.(?:x86_64|aarch64|noarch|i686|ppc64le|s390x))?$/.exec(line);
    if (m) out.set(m[1], `${m[2]}-${m[3]}`);
  }
  return out;
}

// dnf5 replaced dnf 4 where /usr/bin/dnf points at it (Fedora 41+).
export async function isDnf5(ctx: StepContext): Promise<boolean> {
  const target = await ctx.files.readlink('/usr/bin/dnf');
  return target !== null && /dnf5$/.test(target);
}
