import type { LoadedConfig } from '../../config/types.js';
import type { Step } from '../../engine/step.js';
import type { HostFacts } from '../../host/facts.js';
import { crictlStep } from './crictl.js';
import { firewallStep } from './firewall.js';
import { hostsStep } from './hosts.js';
import { modulesStep } from './modules.js';
import { networkManagerCniStep } from './networkmanager-cni.js';
import { packagesStep } from './packages/index.js';
import { proxyStep } from './proxy.js';
import { selinuxStep } from './selinux.js';
import { swapStep } from './swap.js';
import { sysctlStep } from './sysctl.js';
import { timeStep } from './time.js';

export { containerdPackage, wantedPackages } from './packages/index.js';

// The runbook's host preparation, in its order. Every step decides from config and facts
// whether it applies (e.g. `host.swap: leave` is a skip), so the list is fixed.
export function hostPreparationSteps(_config: LoadedConfig, _facts: HostFacts): Step[] {
  return [timeStep, selinuxStep, firewallStep, swapStep, modulesStep, sysctlStep, hostsStep, proxyStep, packagesStep, crictlStep, networkManagerCniStep];
}
