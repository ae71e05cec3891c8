import { StepError, type Change, type StepContext } from '../../../engine/step.js';
import { proxyFor, proxyView } from '../../../net/proxy.js';
import { getViaProxy } from '../../../net/proxy-fetch.js';
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
  // the keyring is written through files.ts: reset restores or removes it
  return { kind: 'action', description: `${KEY_PREFIX}${key.source} -> ${key.path}`, undo: [] };
}

// Downloads the URL keys that keyChange asked for and writes them (armored).
export async function writeDownloadedKeys(ctx: StepContext, changes: Change[]): Promise<boolean> {
  let wrote = false;
  for (const c of changes) {
    if (c.kind !== 'action' || !c.description.startsWith(KEY_PREFIX)) continue;
    const [url, target] = c.description.slice(KEY_PREFIX.length).split(' -> ');
    const body = await download(ctx, url).catch((e: unknown) => {
      throw forRepository(e, target);
    });
    await ctx.files.write(target, armorKey(body), { mode: 0o644 });
    wrote = true;
  }
  return wrote;
}

// Names the repository whose key failed (kubernetes.asc -> repositories.kubernetes.key):
// nothing was written yet, and the operator fixes that one setting.
function forRepository(e: unknown, keyPath: string): unknown {
  if (!(e instanceof StepError)) return e;
  const name = keyPath.replace(/^.*\//, '').replace(/\.asc$/, '');
  return new StepError(e.message.replace(/^packages: /, `packages: repositories.${name}.key: `), e.hint?.replace('repositories.*', `repositories.${name}`), e.retryable, { cause: e });
}

// node's fetch with a timeout, or through the configured proxy (fetch does not read the
// proxy environment); 5xx and network errors are retryable, 4xx are not.
async function download(ctx: StepContext, url: string): Promise<Buffer> {
  const proxy = proxyFor(url, proxyView(ctx.config, [], ctx.facts.hostname));
  ctx.progress(`downloading ${url}${proxy ? ' through the proxy' : ''}`);
  let status: number;
  let body: Buffer;
  try {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(60_000)]);
    if (proxy) ({ status, body } = await getViaProxy(url, proxy, signal));
    else {
      const res = await fetch(url, { signal, redirect: 'follow' });
      status = res.status;
      body = Buffer.from(await res.arrayBuffer());
    }
  } catch (e) {
    throw new StepError(`packages: cannot download repository key ${url}${proxy ? ' through the proxy' : ''}: ${(e as Error).cause ?? (e as Error).message}`, 'check the network and proxy, or give the key as a local file (repositories.*.key: /path)', true, { cause: e });
  }
  if (status < 200 || status > 299) throw new StepError(`packages: repository key ${url}: HTTP ${status}`, status >= 500 ? 'the server failed; joinagent retries' : status === 407 ? 'the proxy wants credentials: check the user and password in proxy.http/https' : 'check repositories.*.key / url in the config', status >= 500);
  if (!body.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') && body[0] !== undefined && (body[0] & 0x80) === 0) {
    throw new StepError(`packages: ${url} is not an OpenPGP key (got ${body.length} bytes starting "${body.subarray(0, 20).toString('latin1')}")`, 'check repositories.*.key in the config');
  }
  return body;
}
