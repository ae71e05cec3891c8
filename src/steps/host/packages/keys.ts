import { StepError, type Change, type StepContext } from '../../../engine/step.js';
import { armorKey, type RepoKey } from './repos.js';

const KEY_PREFIX = 'download key ';

// The change a repository key needs. A key given as a host path is compared by content;
// a URL key is downloaded only when the keyring is missing (check stays off the network,
// and a converged host does not fetch the key on every reconcile).
export async function keyChange(ctx: StepContext, key: RepoKey): Promise<Change | null> {
  const current = await ctx.files.read(key.path);
  if (key.source.startsWith('/')) {
    const raw = await ctx.files.readBytes(key.source);
    if (raw === null) throw new StepError(`packages: repository key ${key.source} does not exist`, 'fix repositories.*.key in the config (an absolute path on this host, or an http(s) URL)');
    const wanted = armorKey(raw);
    return current === wanted ? null : { kind: 'file', path: key.path, before: current, after: wanted };
  }
  if (current !== null) return null;
  return { kind: 'action', description: `${KEY_PREFIX}${key.source} -> ${key.path}` };
}

// Downloads the URL keys that keyChange asked for and writes them (armored).
export async function writeDownloadedKeys(ctx: StepContext, changes: Change[]): Promise<boolean> {
  let wrote = false;
  for (const c of changes) {
    if (c.kind !== 'action' || !c.description.startsWith(KEY_PREFIX)) continue;
    const [url, target] = c.description.slice(KEY_PREFIX.length).split(' -> ');
    const body = await download(ctx, url);
    await ctx.files.write(target, armorKey(body), { mode: 0o644 });
    wrote = true;
  }
  return wrote;
}

// node's fetch with a timeout; 5xx and network errors are retryable, 4xx are not.
async function download(ctx: StepContext, url: string): Promise<Buffer> {
  ctx.progress(`downloading ${url}`);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(60_000)]), redirect: 'follow' });
  } catch (e) {
    throw new StepError(`packages: cannot download repository key ${url}: ${(e as Error).cause ?? (e as Error).message}`, 'check the network and proxy, or give the key as a local file (repositories.*.key: /path)', true, { cause: e });
  }
  if (!res.ok) throw new StepError(`packages: repository key ${url}: HTTP ${res.status}`, res.status >= 500 ? 'the server failed; joinagent retries' : 'check repositories.*.key / url in the config', res.status >= 500);
  const body = Buffer.from(await res.arrayBuffer());
  if (!body.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') && body[0] !== undefined && (body[0] & 0x80) === 0) {
    throw new StepError(`packages: ${url} is not an OpenPGP key (got ${body.length} bytes starting "${body.subarray(0, 20).toString('latin1')}")`, 'check repositories.*.key in the config');
  }
  return body;
}
