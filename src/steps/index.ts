import type { LoadedConfig } from '../config/types.js';
import type { Step } from '../engine/step.js';
import type { HostFacts } from '../host/facts.js';
import { buildJoinSteps } from './join/index.js';
import { preflightStep } from './join/preflight.js';
import { hostPreparationSteps } from './host/index.js';
import { machineIdentityStep } from './host/machine-identity.js';
import { containerdSteps } from './runtime/index.js';

export type StepSet = 'prepare' | 'run';

// Model builder (kOps nodeup style): declares which steps a run has, in which order;
// only the step modules touch the host. `prepare` = everything but the join.
export function buildSteps(config: LoadedConfig, facts: HostFacts, set: StepSet): Step[] {
  const host = hostSteps(config, facts);
  const steps: Step[] = [...host, ...runtimeSteps(config, facts, host)];
  // a copy of a golden image sharing its builder's machine-id is refused before anything
  // changes; otherwise the identity is recorded for the copies (steps/host/machine-identity.ts)
  const identity = machineIdentityStep(set);
  const first = set === 'run' ? [identity, { ...preflightStep, after: [identity.id] }] : [identity];
  // the cluster-aware preflight comes before any host or runtime change (steps/join/preflight.ts)
  const gated = steps.map((s) => ({ ...s, after: [...(s.after ?? []), first.at(-1)!.id] }));
  if (set === 'run') return [...first, ...gated, ...joinSteps(config, facts, steps.map((s) => s.id))];
  return [...first, ...gated];
}

// Each group is filled by its own feature module; kept as functions so a group can
// decide from config and facts which steps apply.
function hostSteps(config: LoadedConfig, facts: HostFacts): Step[] {
  return hostPreparationSteps(config, facts);
}

// containerd config, service, images; `earlier` tells them whether a packages step exists.
function runtimeSteps(config: LoadedConfig, facts: HostFacts, earlier: Step[]): Step[] {
  return containerdSteps(config, facts, { existing: earlier.map((s) => s.id) });
}

function joinSteps(config: LoadedConfig, facts: HostFacts, prior: string[]): Step[] {
  return buildJoinSteps(config, facts, prior);
}
