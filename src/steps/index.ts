import type { LoadedConfig } from '../config/types.js';
import type { Step } from '../engine/step.js';
import type { HostFacts } from '../host/facts.js';
import { hostPreparationSteps } from './host/index.js';

export type StepSet = 'prepare' | 'run';

// Model builder (kOps nodeup style): declares which steps a run has, in which order;
// only the step modules touch the host. `prepare` = everything but the join.
export function buildSteps(config: LoadedConfig, facts: HostFacts, set: StepSet): Step[] {
  const steps: Step[] = [...hostSteps(config, facts), ...runtimeSteps(config, facts)];
  if (set === 'run') steps.push(...joinSteps(config, facts));
  return steps;
}

// Each group is filled by its own feature module; kept as functions so a group can
// decide from config and facts which steps apply.
function hostSteps(config: LoadedConfig, facts: HostFacts): Step[] {
  return hostPreparationSteps(config, facts);
}

function runtimeSteps(_config: LoadedConfig, _facts: HostFacts): Step[] {
  return [];
}

function joinSteps(_config: LoadedConfig, _facts: HostFacts): Step[] {
  return [];
}
