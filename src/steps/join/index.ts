import type { LoadedConfig } from '../../config/types.js';
import type { Step } from '../../engine/step.js';
import type { HostFacts } from '../../host/facts.js';
import { joinCleanupStep } from './cleanup.js';
import { discoveryStep } from './discovery.js';
import { joinStep } from './join.js';
import { kubeletConfigStep } from './kubelet-config.js';
import { nodeIPStep } from './nodeip.js';
import { kubeProxyStep } from './kube-proxy.js';
import { kubeletResolvConfStep } from './resolv-conf.js';
import { nodeReadyStep } from './node-ready.js';
import { upgradeStep } from './upgrade.js';

// The join group: validate credentials first, pick the node IP, join, clean up the
// token, then prove the result from the node (Ready, then kube-proxy's pod running). `prior` = every step before the group
// (host preparation, runtime): discovery may need the managed /etc/hosts names, and
// kubeadm must find containerd running and its own package installed.
export function buildJoinSteps(config: LoadedConfig, facts: HostFacts, prior: string[] = []): Step[] {
  // kubelet registers under the lower-cased hostname unless nodeRegistration.name is set
  const nodeName = config.join.nodeName ?? facts.hostname.toLowerCase();
  return [
    { ...discoveryStep, after: prior },
    { ...nodeIPStep, after: prior },
    { ...joinStep, after: [...prior, ...(joinStep.after ?? [])] },
    joinCleanupStep,
    kubeletConfigStep,
    kubeletResolvConfStep,
    // the kubelet may be restarted for its resolvConf: Ready and kube-proxy are judged after
    withAfter(nodeReadyStep(config.agent.join.waitForReady, nodeName), kubeletResolvConfStep.id),
    kubeProxyStep(config.agent.join.waitForReady, nodeName),
    upgradeStep(config, nodeName),
  ];
}

function withAfter(step: Step, id: string): Step {
  return { ...step, after: [...(step.after ?? []), id] };
}
