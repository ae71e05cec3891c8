import { hasKubeletSettings } from '../../config/kubelet.js';
import type { LoadedConfig } from '../../config/types.js';
import type { Change, StepContext } from '../../engine/step.js';
import { hostFiles, type Files } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import { JOINAGENT_PATCH, readPatchDir, renderKubeletPatch } from '../../join/kubeadm-patches.js';
import { renderResolvPatch } from '../../join/resolv-conf.js';
import type { PreflightPublished } from './preflight.js';

// joinagent's resolvConf patch for this node (join/resolv-conf.ts decides it), beside the
// kubelet: one: kubeadm applies both when it writes /var/lib/kubelet/config.yaml, and
// `kubeadm upgrade node --patches` again when it rewrites that file from the cluster.
export const RESOLV_PATCH = 'kubeletconfiguration-resolvconf+merge.yaml';

export interface ResolvFix {
  path: string;
  why: string;
}

// The resolvConf fix preflight decided from the cluster's kubelet-config and this host.
export function resolvFixOf(ctx: StepContext): ResolvFix | undefined {
  const v = (ctx.published.preflight as PreflightPublished | undefined)?.resolvConf;
  return v?.fix ? { path: v.fix, why: v.message } : undefined;
}

// The resolvConf patch a join (or the post-join step) left for this node, read back for
// `kubeadm upgrade node --patches`, which rewrites config.yaml from the cluster.
export async function ownResolvPatch(files: Files): Promise<ResolvFix | undefined> {
  const text = await files.read(`${paths.patchesDir}/${RESOLV_PATCH}`);
  const path = text === null ? undefined : /^resolvConf:\s*(\S+)/m.exec(text)?.[1];
  return path ? { path, why: 'kept from the join' } : undefined;
}

// The patches directory kubeadm join gets: with a kubelet: section or a resolvConf fix,
// joinagent's own (its patches beside copies of the operator's patches.directory, as
// kubeadm takes one directory); without, the operator's as written (undefined here).
export function joinPatchesDir(config: LoadedConfig, resolv?: ResolvFix): string | undefined {
  return hasKubeletSettings(config.agent.kubelet) || resolv ? paths.patchesDir : undefined;
}

// File changes that make joinagent's patches directory what kubeadm should read.
export async function patchFileChanges(ctx: StepContext, resolv?: ResolvFix): Promise<Change[]> {
  if (!joinPatchesDir(ctx.config, resolv)) return [];
  const want = new Map<string, string>();
  if (hasKubeletSettings(ctx.config.agent.kubelet)) want.set(JOINAGENT_PATCH, renderKubeletPatch(ctx.config.agent.kubelet, ctx.config.file));
  if (resolv) want.set(RESOLV_PATCH, renderResolvPatch(resolv.path, resolv.why));
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
