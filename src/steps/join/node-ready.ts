import { StepError, type Step } from '../../engine/step.js';
import { inspectLocal } from '../../join/local.js';
import { inspectKubeletCerts, kubeletCertFindings, type KubeletCertFacts } from '../../join/kubelet-certs.js';
import { classifyNotReady } from '../../join/notready.js';
import { gatherNotReadyFacts } from '../../join/notready-facts.js';
import { readNodeStatus } from '../../join/nodestatus.js';
import type { StepContext } from '../../engine/step.js';
import type { PreflightPublished } from './preflight.js';
import { attemptsToWait } from '../../engine/retry.js';

// The runbook's control-plane checks, done from the node with the kubelet's own
// credentials: the Node exists, is Ready, has a podCIDR. NotReady right after a join is
// normal until the CNI runs, so this step retries for join.waitForReady; a node still
// NotReady then fails the run with the kubelet's reason ("container runtime network not
// ready: NetworkReady=false ... cni plugin not initialized"), as the runbook's check
// would: a worker that never becomes Ready runs no pods. The daemon keeps checking.
export function nodeReadyStep(waitMs: number, nodeName: string): Step {
  return {
    id: 'node-ready',
    title: 'Node registered and Ready',
    phase: 'join',
    after: ['join'],
    retry: { attempts: attemptsToWait(waitMs, { baseMs: 1000, maxMs: 4000 }), baseMs: 1000, maxMs: 4000 },
    async check(ctx) {
      if (!(await inspectLocal(ctx.files)).kubeletConf) return { state: 'skip', reason: 'not joined yet' };
      let s;
      try {
        s = await readNodeStatus(ctx.files, nodeName, ctx.signal);
      } catch (e) {
        throw new StepError(`cannot read Node "${nodeName}" with the kubelet's credentials: ${(e as Error).message}`, 'check the kubelet journal (`journalctl -u kubelet`) and that the control plane is reachable', true, { cause: e });
      }
      ctx.publish('node', { name: s.name, ready: s.ready, podCIDR: s.podCIDR, reason: s.reason });
      const certs = await publishKubeletCerts(ctx, nodeName);
      if (s.ready) {
        ctx.publish('notReady', []);
        return { state: 'ok', message: `Node "${s.name}" Ready, podCIDR ${s.podCIDR ?? '(none yet)'}` };
      }
      // why, from this node's own state (join/notready.ts)
      const why = classifyNotReady({ ...(await gatherNotReadyFacts(ctx.files, ctx.proc, s.conditions ?? [])), kubeletCertExpired: certs.clientNotAfter && Date.parse(certs.clientNotAfter) < Date.now() ? certs.clientNotAfter : undefined });
      ctx.publish('notReady', why);
      // every cause found, not the first: a node often has two (NetworkManager and the firewall)
      const cause = why.length === 1 ? `; likely cause: ${why[0].message}` : why.length ? `; likely causes: ${why.map((w) => w.message).join('; ')}` : '';
      const message = s.found ? `joined, waiting for Ready: ${s.reason}${cause}` : `joined, waiting for the kubelet to register: ${s.reason}${cause}`;
      if (why.length && !ctx.dryRun) throw new StepError(message, why.map((w) => w.hint).join('; '), true);
      // plan reports what it sees; only a run waits
      if (ctx.dryRun) return { state: 'ok', message };
      throw new StepError(message, readyHint(s.reason ?? '', nodeName), true);
    },
    async apply() {
      // nothing to change: Ready is the cluster's verdict
    },
  };
}

// The next action for the reason the kubelet gave.
function readyHint(reason: string, nodeName: string): string {
  if (reason === 'NetworkUnavailable' || reason.includes('NetworkReady=false')) {
    return `the CNI has not reached this node (no config in /etc/cni/net.d): on the control plane, \`kubectl -n kube-flannel get pods -o wide --field-selector spec.nodeName=${nodeName}\` (or your CNI's namespace) and whether the network add-on is installed at all`;
  }
  if (reason.includes('RuntimeReady=false') || reason.includes('container runtime is down')) return 'containerd is not ready: `systemctl status containerd`, `journalctl -u containerd`';
  return `on the control plane: \`kubectl describe node ${nodeName}\``;
}

// The kubelet's certificates in /status (published.kubeletCert) and metrics, with what is
// wrong with them as warnings naming the command to run.
async function publishKubeletCerts(ctx: StepContext, nodeName: string): Promise<KubeletCertFacts> {
  const c = await inspectKubeletCerts(ctx.files);
  const serverTLSBootstrap = (ctx.published.preflight as PreflightPublished | undefined)?.kubelet?.serverTLSBootstrap;
  const nodeIPs = typeof ctx.published.nodeIP === 'string' ? ctx.published.nodeIP.split(',') : [];
  const findings = kubeletCertFindings(c, { now: new Date(), nodeName, nodeIPs, serverTLSBootstrap });
  ctx.publish('kubeletCert', { ...c, findings: findings.map((f) => f.message) });
  for (const f of findings) ctx.warn(`kubelet certificates: ${f.message}`, f.hint);
  return c;
}
