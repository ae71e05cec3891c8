import { readTokenFile } from './load.js';
import type { LoadedConfig } from './types.js';

// A daemon that failed on an expired token picks up the new one from join.tokenFile at
// its next attempt, without a restart or SIGHUP: the operator's whole job is to write
// the file. A file that is now unreadable or malformed keeps the old token (the run
// then says why it fails); the config's other fields are not re-read.
export async function refreshToken(config: LoadedConfig): Promise<{ config: LoadedConfig; changed: boolean; problem?: string }> {
  // 'none' with a tokenPath: a joined node whose token file joinagent removed after the join
  if (!config.tokenPath || !(config.tokenSource === 'file' || (config.tokenSource === 'none' && config.tokenPath === config.agent?.join.tokenFile))) return { config, changed: false };
  const r = await readTokenFile(config.tokenPath);
  if (r.error || !r.token) return { config, changed: false, problem: r.error };
  if (r.token === config.token) return { config, changed: false };
  return { config: { ...config, token: r.token, tokenSource: 'file' }, changed: true };
}
