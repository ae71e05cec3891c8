import type { LoadedConfig } from '../config/types.js';
import type { Step } from '../engine/step.js';
import type { HostFacts } from '../host/facts.js';
import { buildJoinSteps } from '../join/steps.js';

export type StepSet = 'prepare' | 'run';

// Model builder (kOps nodeup style): declares which steps a run has, in which order;
// only the step modules touch the host. `prepare` = everything but the join.
export function buildSteps(config: LoadedConfig, facts: HostFacts, set: StepSet): Step[] {
  const steps: Step[] = [...hostSteps(config, facts), ...runtimeSteps(config, facts)];
  if (set === 'run') steps.push(...joinSteps(config, facts, steps.map((s) => s.id)));
  return steps;
}

// Each group is filled by its own feature module; kept as functions so a group can
// decide from config and facts which steps apply.
function hostSteps(_config: LoadedConfig, _facts: HostFacts): Step[] {
  return [];
}

function runtimeSteps(_config: LoadedConfig, _facts: HostFacts): Step[] {
  return [];
}

function joinSteps(config: LoadedConfig, facts: HostFacts, prior: string[]): Step[] {
  return buildJoinSteps(config, facts, prior);
}
