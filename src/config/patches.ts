import type { Node } from 'yaml';
import { hostFiles } from '../host/files.js';
import { paths } from '../host/paths.js';
import { inspectPatches, overlaps, readPatchDir } from '../join/kubeadm-patches.js';
import { kubeletProblems } from './kubelet.js';
import type { AgentConfig, JoinDocument } from './types.js';
import { report, type WalkContext } from './walk.js';

// The kubelet: section and kubeadm's patches.directory, checked together: the directory
// as kubeadm would read it (every problem named with its file) and no KubeletConfiguration
// field set both here and in a patch file.
export async function checkKubeletConfig(ctx: WalkContext, joinCtx: WalkContext, agent: AgentConfig, join: JoinDocument): Promise<void> {
  for (const p of kubeletProblems(agent.kubelet)) report(ctx, p.path, ctx.nodes.get(p.path), p.message);
  const dir = join.patchesDir;
  if (!dir) return;
  const node = joinCtx.nodes.get('patches.directory') as Node | undefined;
  if (dir === paths.patchesDir) return report(joinCtx, 'patches.directory', node, `${dir} is where joinagent writes the patches it hands kubeadm: keep yours in another directory`);
  const files = await readPatchDir(hostFiles('/', true), dir);
  if (files === null) return report(joinCtx, 'patches.directory', node, `${dir} is not a directory (kubeadm: could not list patch files for path "${dir}")`);
  const { problems, keys } = inspectPatches(files);
  for (const p of problems) report(joinCtx, 'patches.directory', node, `${dir}/${p.rel}: ${p.message}`, p.severity);
  for (const o of overlaps(agent.kubelet, keys)) {
    report(joinCtx, 'patches.directory', node, `${dir}/${o.rel} sets ${o.key}, which kubelet.${o.key} sets too: keep one (which wins would depend on file names)`);
  }
}
