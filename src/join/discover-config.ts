import type { LoadedConfig } from '../config/types.js';
import { hostFiles } from '../host/files.js';
import type { DiscoveryResult, Throttled } from './discovery-core.js';
import { discoverFromFile, fileDiscoveryEndpoint } from './discovery-file.js';
import { discover } from './discovery.js';

// Files the config names are read at their real paths, like the config itself (the
// loader does the same for join.tokenFile), whatever --root a command got.
const readNamed = (p: string): Promise<string | null> => hostFiles('/', true).read(p).catch(() => null);

// The configured discovery method, as `kubeadm join` would run it: token or file.
export function discoverConfigured(config: LoadedConfig, onThrottled?: Throttled, signal?: AbortSignal): Promise<DiscoveryResult> {
  const j = config.join;
  const kubeletVersion = config.agent.kubernetesVersion;
  if (j.discovery?.kind === 'file') return discoverFromFile({ kubeConfigPath: j.discovery.kubeConfigPath, token: config.token, kubeletVersion, readFile: readNamed, onThrottled, signal });
  return discover({ endpoint: j.apiServerEndpoint, token: config.token, caCertHashes: j.caCertHashes, unsafeSkipCAVerification: j.unsafeSkipCAVerification, kubeletVersion, onThrottled, signal });
}

// The preflight step, and the discovery step after it (its check runs ahead while the
// host is prepared, and again when that guess went stale: engine/speculate.ts), would
// each ask the API server the same four questions within seconds; on a fleet joining
// at once that is most of the control plane's load. A successful discovery of the same
// inputs is shared for SHARE_MS; a failure never is (the next check asks again). The
// token is checked afresh just before `kubeadm join` (token-recheck.ts), not from here.
const SHARE_MS = 30_000;
const shared = new Map<string, { at: number; result: Promise<DiscoveryResult> }>();

export function discoverConfiguredShared(config: LoadedConfig, onThrottled?: Throttled, signal?: AbortSignal, now = Date.now): Promise<DiscoveryResult> {
  const j = config.join;
  const key = JSON.stringify([j.apiServerEndpoint, j.discovery, j.caCertHashes, j.unsafeSkipCAVerification, config.token, config.agent.kubernetesVersion]);
  const hit = shared.get(key);
  if (hit && now() - hit.at < SHARE_MS) return hit.result;
  const result = discoverConfigured(config, onThrottled, signal);
  const entry = { at: now(), result };
  shared.set(key, entry);
  const forget = (): void => void (shared.get(key) === entry && shared.delete(key));
  result.then((r) => !r.ok && forget(), forget);
  return result;
}

// host:port of the API server; with file discovery from an https:// URL, fetched now.
export async function configuredEndpoint(config: LoadedConfig): Promise<string> {
  const j = config.join;
  if (j.apiServerEndpoint || j.discovery?.kind !== 'file') return j.apiServerEndpoint;
  return fileDiscoveryEndpoint(j.discovery.kubeConfigPath, readNamed);
}

// "token" or "file /etc/joinagent/discovery.conf", for messages and /status.
export function discoveryMethod(config: LoadedConfig): string {
  const d = config.join.discovery;
  return d?.kind === 'file' ? `file ${d.kubeConfigPath}` : 'bootstrap token';
}
