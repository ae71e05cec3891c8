import type { LoadedConfig } from '../config/types.js';
import type { StepContext } from '../engine/step.js';
import { paths } from '../host/paths.js';
import { packageManager } from '../steps/host/packages/step.js';
import { readRecord, type UpgradeProgress } from './record.js';
import { gitVersionOf } from './skew.js';

export interface NodeVersion {
  /** "v1.32.11": what the node runs */
  version: string;
  source: 'record' | 'kubelet package';
  upgrade?: UpgradeProgress;
}

// The Kubernetes version a joined node runs: joinagent's record (upgrade.json) when it has
// one, else the installed kubelet package (a node joined before joinagent kept the record).
// Not the package alone: a kubelet upgraded by hand is drift to repair, not a new version.
// undefined when the node is not joined (a join installs the configured version).
export async function nodeVersion(ctx: StepContext): Promise<NodeVersion | undefined> {
  if (!(await ctx.files.exists(paths.kubeletConf))) return undefined;
  const rec = await readRecord(ctx.files);
  if (rec) return { version: rec.version, source: 'record', ...(rec.upgrade ? { upgrade: rec.upgrade } : {}) };
  if (!ctx.facts.family) return undefined;
  const pkg = (await packageManager(ctx.facts.family).installed(ctx, ['kubelet'])).get('kubelet')?.version;
  const v = pkg ? gitVersionOf(pkg) : undefined;
  return v ? { version: v, source: 'kubelet package' } : undefined;
}

// The config every step but the upgrade sees: kubernetesVersion is what the node runs
// until the upgrade step has moved it, so the packages, images and containerd steps keep
// the running version in place (and repair drift from it) instead of jumping to the new
// one out of kubeadm's order. While an upgrade is under way (`upgrading`), the kube
// packages and their repository are the upgrade step's alone.
export function configAt(config: LoadedConfig, node: NodeVersion | undefined): LoadedConfig {
  if (!node) return config;
  const target = config.agent.kubernetesVersion;
  if (!node.upgrade && node.version === normalise(target)) return config;
  return { ...config, agent: { ...config.agent, kubernetesVersion: node.version, ...(node.upgrade ? { upgrading: { from: node.upgrade.from, to: normalise(target) } } : {}) } };
}

export function normalise(v: string): string {
  return v.startsWith('v') ? v : `v${v}`;
}
