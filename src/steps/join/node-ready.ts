import { StepError, type Step } from '../../engine/step.js';
import { inspectLocal } from '../../join/local.js';
import { readNodeStatus } from '../../join/nodestatus.js';

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
    retry: { attempts: Math.max(1, Math.ceil(waitMs / 4000)), baseMs: 1000, maxMs: 4000 },
    async check(ctx) {
      if (!(await inspectLocal(ctx.files)).kubeletConf) return { state: 'skip', reason: 'not joined yet' };
      let s;
      try {
        s = await readNodeStatus(ctx.files, nodeName, ctx.signal);
      } catch (e) {
        throw new StepError(`cannot read Node "${nodeName}" with the kubelet's credentials: ${(e as Error).message}`, 'check the kubelet journal (`journalctl -u kubelet`) and that the control plane is reachable', true, { cause: e });
      }
      ctx.publish('node', { name: s.name, ready: s.ready, podCIDR: s.podCIDR, reason: s.reason });
      if (s.ready) return { state: 'ok', message: `Node "${s.name}" Ready, podCIDR ${s.podCIDR ?? '(none yet)'}` };
      const message = s.found ? `joined, waiting for Ready: ${s.reason}` : `joined, waiting for the kubelet to register: ${s.reason}`;
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
