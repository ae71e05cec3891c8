import { StepError, type Step, type StepContext } from '../../engine/step.js';
import { shortPin } from '../../join/capin.js';
import { discover } from '../../join/discovery.js';
import { inspectLocal, joinVerdict } from '../../join/local.js';

export interface DiscoveryPublished {
  apiServer: string;
  serverVersion?: string;
  caPins?: string[];
  clockSkewMs?: number;
}

// Read-only validation of endpoint, token and CA pin before kubeadm is touched, so a
// bad token or a filtered port is reported as such instead of as a stuck preflight.
// A node already joined to the configured cluster skips it: its bootstrap token has
// likely expired (24h) or been removed, and it no longer needs one.
export const discoveryStep: Step = {
  id: 'discovery',
  title: 'Validate the API server, bootstrap token and CA pin',
  phase: 'join',
  retry: { attempts: 3, baseMs: 2000, maxMs: 10_000 },
  async check(ctx) {
    const { join, agent, token } = ctx.config;
    const verdict = joinVerdict(await inspectLocal(ctx.files), join.caCertHashes);
    if (verdict.state === 'joined') return { state: 'ok', message: 'already joined to this cluster (kubelet.conf present): discovery not needed' };
    if (!token) throw new StepError('no bootstrap token to join with', 'set discovery.bootstrapToken.token, join.tokenFile, or pass the systemd credential "join-token"');
    const r = await discover({ endpoint: join.apiServerEndpoint, token, caCertHashes: join.caCertHashes, unsafeSkipCAVerification: join.unsafeSkipCAVerification, kubeletVersion: agent.kubernetesVersion });
    for (const c of r.checks) if (c.level === 'warn') ctx.warn(`discovery: ${c.message}`, c.hint);
    if (!r.ok) throw new StepError(`discovery: ${r.failure!.message}`, r.failure!.hint, r.retryable);
    const published: DiscoveryPublished = { apiServer: join.apiServerEndpoint, serverVersion: r.serverVersion, caPins: r.clusterCaPins, clockSkewMs: r.clockSkewMs };
    ctx.publish('discovery', published);
    return { state: 'ok', message: `API server ${r.serverVersion}, token valid, CA ${shortPin(r.clusterCaPins?.[0] ?? '')}${join.caCertHashes.length ? ' pinned' : ' (not pinned)'}` };
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
