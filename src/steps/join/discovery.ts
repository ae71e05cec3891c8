import { StepError, type Step, type StepContext } from '../../engine/step.js';
import { shortPin } from '../../join/capin.js';
import { discoverConfiguredShared, discoveryMethod } from '../../join/discover-config.js';
import { inspectLocal, joinVerdict } from '../../join/local.js';
import { expiredMessage, NEW_TOKEN_HINT } from '../../join/token-recheck.js';
import type { PreflightPublished } from './preflight.js';

export interface DiscoveryPublished {
  apiServer: string;
  /** "bootstrap token" or "file PATH" */
  method?: string;
  serverVersion?: string;
  caPins?: string[];
  clockSkewMs?: number;
}

// Read-only validation of endpoint, token and CA before kubeadm is touched, so a bad
// token or a filtered port is reported as such instead of as a stuck preflight. Token
// discovery checks the JWS and the CA pin; file discovery the kubeconfig's CA and
// credentials (join/discovery-file.ts). A node already joined to the configured
// cluster skips it: its bootstrap token has likely expired (24h) or been removed.
export const discoveryStep: Step = {
  id: 'discovery',
  title: 'Validate the API server, bootstrap token and CA',
  phase: 'join',
  retry: { attempts: 3, baseMs: 2000, maxMs: 10_000 },
  async check(ctx) {
    const { join, token } = ctx.config;
    const verdict = joinVerdict(await inspectLocal(ctx.files), join.caCertHashes);
    if (verdict.state === 'joined') return { state: 'ok', message: 'already joined to this cluster (kubelet.conf present): discovery not needed' };
    const file = join.discovery?.kind === 'file';
    if (!token && !file) throw new StepError('no bootstrap token to join with', 'set discovery.bootstrapToken.token, join.tokenFile, or pass the systemd credential "join-token"');
    const r = await discoverConfiguredShared(ctx.config, (path, attempt, delayMs, status) => ctx.progress(`the API server answered ${status} to ${path} (attempt ${attempt}): trying again in ${(delayMs / 1000).toFixed(1)} s, as its Retry-After asks`), ctx.signal);
    for (const c of r.checks) if (c.level === 'warn') ctx.warn(`discovery: ${c.message}`, c.hint);
    const acceptedAt = (ctx.published.preflight as PreflightPublished | undefined)?.tokenAcceptedAt;
    // accepted by the preflight, unknown now: it expired while the host was prepared
    if (!r.ok && r.failure?.name === 'token' && acceptedAt) throw new StepError(`discovery: ${expiredMessage(ctx.config, acceptedAt)}`, NEW_TOKEN_HINT);
    if (!r.ok) throw new StepError(`discovery: ${r.failure!.message}`, r.failure!.hint, r.retryable);
    const published: DiscoveryPublished = { apiServer: r.apiServer ?? join.apiServerEndpoint, method: discoveryMethod(ctx.config), serverVersion: r.serverVersion, caPins: r.clusterCaPins, clockSkewMs: r.clockSkewMs };
    ctx.publish('discovery', published);
    const ca = `CA ${shortPin(r.clusterCaPins?.[0] ?? '')}${file ? ' (from the discovery file)' : join.caCertHashes.length ? ' pinned' : ' (not pinned)'}`;
    return { state: 'ok', message: `API server ${r.serverVersion} at ${published.apiServer}, ${file ? `${published.method}, ` : ''}${token ? 'token valid' : 'kubeconfig credentials accepted'}, ${ca}` };
  },
  async apply() {
    // check() either passes or throws: there is nothing to change on this host
  },
};

// Pins the local CA must match: configured ones, plus what discovery saw this run.
export function expectedPins(ctx: StepContext): string[] {
  const seen = (ctx.published.discovery as DiscoveryPublished | undefined)?.caPins ?? [];
  return [...new Set([...ctx.config.join.caCertHashes, ...seen])];
}
