import { splitHostPort } from '../config/formats.js';
import type { LoadedConfig } from '../config/types.js';
import { configuredEndpoint } from './discover-config.js';
import { requestHonouringRetryAfter } from './retry-after.js';
import { parseGitVersion } from './version.js';

// `kubernetesVersion: cluster`: the version comes from the control plane's /version
// (readable anonymously: system:public-info-viewer), before the steps are built, since
// packages and images are chosen by it. The answer is not trusted beyond that: the
// preflight compares it with the cluster's kubeadm-config read over TLS verified by the
// pinned CA, before anything changes.
export const CLUSTER_VERSION = 'cluster';

export class ClusterVersionError extends Error {}

export async function withClusterVersion(config: LoadedConfig, signal?: AbortSignal): Promise<LoadedConfig> {
  if (config.agent.kubernetesVersion !== CLUSTER_VERSION) return config;
  const endpoint = await configuredEndpoint(config).catch(() => '');
  const hp = splitHostPort(endpoint);
  const fail = (why: string): never => {
    throw new ClusterVersionError(`kubernetesVersion: cluster: cannot read the control plane's version from ${endpoint || 'the API server'}: ${why}; make it reachable, or set kubernetesVersion to its version (v1.MINOR.PATCH)`);
  };
  if (!hp) return fail('no API server endpoint');
  const r = await requestHonouringRetryAfter({ host: hp.host, port: hp.port, path: '/version', signal }, { signal }).catch((e: Error) => fail(e.message));
  const gitVersion = r.status === 200 ? (JSON.parse(r.body) as { gitVersion?: string }).gitVersion : undefined;
  const v = gitVersion ? parseGitVersion(gitVersion) : undefined;
  if (!v) return fail(`/version answered ${r.status} without a gitVersion`);
  return { ...config, agent: { ...config.agent, kubernetesVersion: `v${v.major}.${v.minor}.${v.patch}` } };
}
