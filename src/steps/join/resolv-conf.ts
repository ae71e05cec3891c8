import { isMap, parseDocument } from 'yaml';
import { StepError, type Change, type Step } from '../../engine/step.js';
import { hostFiles } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import { inspectLocal } from '../../join/local.js';
import { ETC_RESOLV_CONF, resolvConfVerdict } from '../../join/resolv-conf.js';
import { operatorResolvConf, readResolvHost } from '../../join/resolv-facts.js';
import { restartKubeletForConfig } from './kubelet-config.js';
import { patchFileChanges, writePatchFiles } from './patches.js';

const RESTART = 'systemctl restart kubelet (to read the changed resolvConf)';

// After the join: the resolvConf in /var/lib/kubelet/config.yaml (what the kubelet reads)
// works on this host. Before the join preflight decides it from the cluster and kubeadm
// writes it through joinagent's patch; this step catches what that could not (a control
// plane unreachable at preflight, a node joined by an older agent, `kubeadm upgrade node`
// run by hand without the patches, a host whose resolver changed since): the value is
// set in config.yaml, the patch written for the next `kubeadm upgrade node`, the kubelet
// restarted. The operator's own kubeletconfiguration patch setting it is theirs to fix.
export const kubeletResolvConfStep: Step = {
  id: 'kubelet-resolvconf',
  title: "the kubelet's resolvConf exists on this host and is not a loopback stub",
  phase: 'join',
  // kubelet-config also rewrites config.yaml and restarts the kubelet: one after the other
  after: ['join', 'kubelet-config'],
  async check(ctx) {
    if (!(await inspectLocal(ctx.files)).kubeletConf) return { state: 'skip', reason: 'not joined yet: preflight decides resolvConf and kubeadm join writes it' };
    const text = await ctx.files.read(paths.kubeletConfig);
    if (text === null) return { state: 'skip', reason: `${paths.kubeletConfig} does not exist: the join step says why` };
    const set = (parseDocument(text).toJS() as { resolvConf?: unknown } | null)?.resolvConf;
    // absent: the kubelet's default
    const live = typeof set === 'string' ? set : ETC_RESOLV_CONF;
    const operator = await operatorResolvConf(hostFiles('/', true), ctx.config.join.patchesDir);
    const host = await readResolvHost(ctx.files, ctx.proc, [live]);
    const v = resolvConfVerdict({ cluster: live, operator: operator === live ? live : undefined, host });
    const from = `resolvConf ${live} in ${paths.kubeletConfig}`;
    ctx.publish('resolvConf', { kubelet: live, problem: v.problem, fix: v.fix });
    if (!v.problem) return { state: 'ok', message: `${from}: works on this host` };
    if (!v.fix) throw new StepError(`${from} ${v.problem}: pods on this node get no DNS, and their sandboxes fail where the file is missing`, 'set resolvConf to a file with this host\'s real nameservers (your kubeletconfiguration patch in patches.directory, or /etc/resolv.conf)');
    const changes: Change[] = [
      { kind: 'value', name: 'kubelet resolvConf', live, wanted: v.fix },
      { kind: 'file', path: paths.kubeletConfig, before: text, after: withResolvConf(text, v.fix) },
      ...(await patchFileChanges(ctx, { path: v.fix, why: `${from} ${v.problem}` })),
      { kind: 'action', description: RESTART },
    ];
    return { state: 'change', message: `${from} ${v.problem}: this node's kubelet gets ${v.fix}`, changes };
  },
  async apply(ctx, changes) {
    const cfg = changes.find((c) => c.kind === 'file' && c.path === paths.kubeletConfig);
    if (cfg?.kind === 'file' && cfg.after !== null) await ctx.files.write(cfg.path, cfg.after, { mode: 0o644 });
    await writePatchFiles(ctx, changes);
    await restartKubeletForConfig(ctx, 'resolvConf');
  },
};

// config.yaml with resolvConf set; comments and the order of other keys kept.
export function withResolvConf(configYaml: string, path: string): string {
  const doc = parseDocument(configYaml);
  if (!isMap(doc.contents)) return configYaml;
  doc.set('resolvConf', path);
  return doc.toString({ lineWidth: 0 });
}
