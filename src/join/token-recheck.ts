import type { LoadedConfig } from '../config/types.js';
import { StepError } from '../engine/step.js';
import { tokenAccepted } from './cluster-read.js';
import { discoverConfigured } from './discover-config.js';
import { splitToken } from './jws.js';

// Where a new token goes, for the message that asks for one.
export function tokenHome(config: LoadedConfig): string {
  return config.tokenPath ?? `discovery.bootstrapToken.token in ${config.file}`;
}

// "token expired at T: put a new one in FILE": what an expired token says when the
// preflight had accepted it earlier in this run (a machine that took long to provision).
export function expiredMessage(config: LoadedConfig, acceptedAt: string | undefined, now = new Date()): string {
  const id = config.token ? splitToken(config.token).id : '?';
  const since = acceptedAt ? ` (the API server accepted it at ${acceptedAt}, before the host was prepared)` : '';
  return `token "${id}" expired at ${now.toISOString().replace(/\.\d+Z$/, 'Z')}${since}: put a new one in ${tokenHome(config)}`;
}

export const NEW_TOKEN_HINT = 'on the control plane: `kubeadm token create` (tokens live 24h; `--ttl` sets another lifetime)';

// The token checked again just before `kubeadm join`: discovery's signature check (an
// expired token's JWS is gone from cluster-info) and one request the token must
// authenticate. Throws the StepError that names the file to put a new token in.
export async function recheckToken(config: LoadedConfig, nodeName: string, acceptedAt: string | undefined, signal?: AbortSignal): Promise<void> {
  if (!config.token) return;
  const d = await discoverConfigured(config, undefined, signal);
  if (!d.ok) {
    if (d.failure?.name === 'token') throw new StepError(`join: ${expiredMessage(config, acceptedAt)}`, NEW_TOKEN_HINT);
    // anything else (the network, the API server's health) is kubeadm's discovery to
    // report, with its own retries: this check is about the token only
    return;
  }
  const ok = await tokenAccepted({ apiServer: d.apiServer ?? config.join.apiServerEndpoint, caPem: d.caPem, token: config.token, nodeName, signal }).catch(() => true);
  if (!ok) throw new StepError(`join: ${expiredMessage(config, acceptedAt)}`, NEW_TOKEN_HINT);
}
