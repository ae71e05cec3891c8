import { hasKubeletSettings } from '../../config/kubelet.js';
import type { LoadedConfig } from '../../config/types.js';
import type { Change, StepContext } from '../../engine/step.js';
import { hostFiles } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import { JOINAGENT_PATCH, readPatchDir, renderKubeletPatch } from '../../join/kubeadm-patches.js';

// The patches directory kubeadm join gets: with a kubelet: section, joinagent's own
// (its patch beside copies of the operator's patches.directory, as kubeadm takes one
// directory); without, the operator's as written (undefined here).
export function joinPatchesDir(config: LoadedConfig): string | undefined {
  return hasKubeletSettings(config.agent.kubelet) ? paths.patchesDir : undefined;
}

// File changes that make joinagent's patches directory what kubeadm should read.
export async function patchFileChanges(ctx: StepContext): Promise<Change[]> {
  if (!joinPatchesDir(ctx.config)) return [];
  const want = new Map<string, string>([[JOINAGENT_PATCH, renderKubeletPatch(ctx.config.agent.kubelet, ctx.config.file)]]);
  // the operator's directory is named in the config: read at its real path, like the config
  const userDir = ctx.config.join.patchesDir;
  if (userDir) for (const f of (await readPatchDir(hostFiles('/', true), userDir)) ?? []) want.set(f.rel, f.text);
  const changes: Change[] = [];
  for (const [rel, text] of want) {
    const p = `${paths.patchesDir}/${rel}`;
    const before = await ctx.files.read(p);
    if (before !== text) changes.push({ kind: 'file', path: p, before, after: text });
  }
  for (const f of (await readPatchDir(ctx.files, paths.patchesDir)) ?? []) {
    if (!want.has(f.rel)) changes.push({ kind: 'file', path: `${paths.patchesDir}/${f.rel}`, before: f.text, after: null });
  }
  return changes;
}

export async function writePatchFiles(ctx: StepContext, changes: Change[]): Promise<void> {
  for (const c of changes) {
    if (c.kind !== 'file' || !c.path.startsWith(`${paths.patchesDir}/`)) continue;
    if (c.after === null) await ctx.files.remove(c.path, { backup: false });
    else {
      await ctx.files.mkdir(c.path.slice(0, c.path.lastIndexOf('/')), 0o755);
      await ctx.files.write(c.path, c.after, { mode: 0o644, backup: false });
    }
  }
}
