import { parse } from 'yaml';
import { StepError, type Step, type StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { inspectLocal } from '../../join/local.js';
import { ETC_RESOLV_CONF } from '../../join/resolv-conf.js';
import { diagnoseKubeProxy, type PodFacts } from '../../join/pod-diagnosis.js';
import { readKubeProxyPod, type KubeProxyStatus } from '../../join/podstatus.js';
import { effectiveCriConfig } from '../../runtime/effective.js';
import { criEndpoint, withCri } from '../runtime/cri.js';
import { attemptsToWait } from '../../engine/retry.js';

// The runbook's last check, from the node: kube-proxy's pod bound to this node runs. It
// is the first pod the node runs, so it proves what a Ready Node does not: the sandbox
// image, the kube-proxy image and a cgroup driver runc and the kubelet agree on. A wrong
// cgroup driver does not fail a join; it shows only here, as the sandbox being re-created,
// so when the pod does not run the step reads the node's own facts through the CRI and
// names the cause and the next action. Retries for join.waitForReady while the cause is
// one that waiting may cure (the pod not created yet, an image still pulling).
export function kubeProxyStep(waitMs: number, nodeName: string): Step {
  return {
    id: 'kube-proxy',
    title: "kube-proxy's pod on this node is running",
    phase: 'join',
    after: ['node-ready'],
    retry: { attempts: attemptsToWait(waitMs, { baseMs: 1000, maxMs: 4000 }), baseMs: 1000, maxMs: 4000 },
    async check(ctx) {
      if (!(await inspectLocal(ctx.files)).kubeletConf) return { state: 'skip', reason: 'not joined yet' };
      let s: KubeProxyStatus;
      try {
        s = await readKubeProxyPod(ctx.files, nodeName, ctx.signal);
      } catch (e) {
        throw new StepError(`cannot read the pods bound to Node "${nodeName}" with the kubelet's credentials: ${(e as Error).message}`, 'check the kubelet journal (`journalctl -u kubelet`) and that the control plane is reachable', true, { cause: e });
      }
      ctx.publish('kubeProxy', { pod: s.pod?.name, running: s.running, phase: s.pod?.phase, reason: s.pod?.waiting, restarts: s.pod?.restarts });
      if (s.running) return { state: 'ok', message: s.summary };
      if (ctx.dryRun) return { state: 'ok', message: s.summary };
      if (!s.found) throw new StepError(s.summary, "the DaemonSet controller creates it once the Node exists: on the control plane, `kubectl -n kube-system get ds kube-proxy`; a cluster without kube-proxy (a CNI replacing it) has none: run joinagent with --skip kube-proxy there", true);
      const d = diagnoseKubeProxy(s, await podFacts(ctx, s));
      ctx.publish('kubeProxy', { pod: s.pod?.name, running: false, phase: s.pod?.phase, reason: s.pod?.waiting, restarts: s.pod?.restarts, cause: d.message });
      throw new StepError(d.message, d.hint, !d.definite);
    },
    async apply() {
      // nothing to change: the kubelet runs the pod
    },
  };
}

// The preconditions the kubelet and containerd meet for this pod, read-only.
async function podFacts(ctx: StepContext, s: KubeProxyStatus): Promise<PodFacts> {
  let kubeletDriver: string | undefined;
  let resolvConf: string | undefined;
  try {
    const text = await ctx.files.read(paths.kubeletConfig);
    const cfg = text ? (parse(text) as { cgroupDriver?: string; resolvConf?: string } | null) : null;
    kubeletDriver = cfg?.cgroupDriver ?? undefined;
    if (text) resolvConf = typeof cfg?.resolvConf === 'string' ? cfg.resolvConf : ETC_RESOLV_CONF;
  } catch {
    kubeletDriver = undefined;
  }
  const dns = { resolvConf, resolvConfMissing: resolvConf ? !(await ctx.files.exists(resolvConf)) : undefined };
  if (!(await ctx.files.exists(criEndpoint(ctx).hostPath))) return { kubeletDriver, driverFromRuntime: false, ...dns };
  return withCri(ctx, async (client) => {
    const facts: PodFacts = { kubeletDriver, driverFromRuntime: false, kubeProxyImage: s.pod?.image, ...dns };
    try {
      const v = await client.version();
      // containerd 2.x answers RuntimeConfig: kubelet 1.32 takes the driver from it
      facts.driverFromRuntime = v.runtimeName === 'containerd' && Number(/^v?(\d+)\./.exec(v.runtimeVersion)?.[1] ?? 0) >= 2;
      const eff = effectiveCriConfig((await client.status(true)).info);
      facts.runcSystemdCgroup = eff?.systemdCgroup ?? (eff ? false : undefined);
      facts.sandboxImage = eff?.sandboxImage;
      if (facts.sandboxImage) facts.sandboxPresent = (await client.imageStatus(facts.sandboxImage)) !== null;
      if (facts.kubeProxyImage) facts.kubeProxyPresent = (await client.imageStatus(facts.kubeProxyImage)) !== null;
    } catch {
      // the runtime not answering is the kubelet's and node-ready's story: report the pod alone
    }
    return facts;
  });
}
