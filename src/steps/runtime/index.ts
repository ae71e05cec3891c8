import type { LoadedConfig } from '../../config/types.js';
import type { Step } from '../../engine/step.js';
import type { HostFacts } from '../../host/facts.js';
import { cgroupDriverStep } from './cgroup-driver.js';
import { containerdConfigStep } from './containerd-config.js';
import { containerdRunningStep } from './containerd-running.js';
import { imagesStep } from './images.js';

export interface ContainerdStepsOptions {
  /** Ids of steps already in the list: `packages` installs containerd, so it goes first when present. */
  existing?: string[];
  readyTimeoutMs?: number;
}

// containerd config -> service running -> images, in that order. Installing containerd is
// the packages step's job; the dependency on it is declared only when that step exists,
// because the engine waits forever on an id that is not in the list.
export function containerdSteps(_config: LoadedConfig, _facts: HostFacts, opts: ContainerdStepsOptions = {}): Step[] {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const packages = (opts.existing ?? []).includes('packages') ? ['packages'] : [];
  // a registry mirror may be named in host.hosts (IPv6 mirrors must be: registry-hosts.ts)
  const hosts = (opts.existing ?? []).includes('hosts') ? ['hosts'] : [];
  return [
    containerdConfigStep({ after: packages, readyTimeoutMs }),
    containerdRunningStep({ after: [...packages, 'containerd-config'], readyTimeoutMs }),
    imagesStep({ after: ['containerd-running', ...hosts], readyTimeoutMs }),
    cgroupDriverStep(['containerd-running']),
  ];
}
