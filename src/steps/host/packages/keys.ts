import { StepError, type Change, type StepContext } from '../../../engine/step.js';
import { proxyFor, proxyView } from '../../../net/proxy.js';
import { getViaProxy } from '../../../net/proxy-fetch.js';
import { keyFingerprints } from './openpgp.js';
import { armorKey, type RepoKey } from './repos.js';

const KEY_PREFIX = 'download key ';
// Repository keys are a few KiB (pkgs.k8s.io's: 1.2 KiB, Docker's: 3.8 KiB).
const MAX_KEY_BYTES = 256 * 1024;

// The change a repository key needs. A key given as a host path is compared by content;
// a URL key is downloaded only when the keyring is missing, or, with pinned
// fingerprints, holds another key (check stays off the network, and a converged host
// does not fetch the key on every reconcile). A key that is not pinned fails the step.
export async function keyChange(ctx: StepContext, key: RepoKey): Promise<Change | null> {
  const current = await ctx.files.read(key.path);
  if (key.source.startsWith('/')) {
    const raw = await ctx.files.readBytes(key.source);
    if (raw === null) throw new StepError(`packages: repository key ${key.source} does not exist`, 'fix repositories.*.key in the config (an absolute path on this host, or an http(s) URL)');
    checkPins(key, raw, key.source);
    const wanted = armorKey(raw);
    return current === wanted ? null : { kind: 'file', path: key.path, before: current, after: wanted };
  }
  if (current !== null && (!key.fingerprints?.length || unpinned(key, Buffer.from(current)).length === 0)) return null;
  // the keyring is written through files.ts: reset restores or removes it
  return { kind: 'action', description: `${KEY_PREFIX}${key.source} -> ${key.path}`, undo: [] };
}

// Downloads the URL keys that keyChange asked for, checks them against the pins of
// `keys` (the repository plan's), and writes them (armored).
export async function writeDownloadedKeys(ctx: StepContext, changes: Change[], keys: RepoKey[]): Promise<boolean> {
  let wrote = false;
  for (const c of changes) {
    if (c.kind !== 'action' || !c.description.startsWith(KEY_PREFIX)) continue;
    const [url, target] = c.description.slice(KEY_PREFIX.length).split(' -> ');
    const body = await download(ctx, url).catch((e: unknown) => {
      throw forRepository(e, target);
    });
    const key = keys.find((k) => k.path === target && k.source === url);
    if (!key) throw new StepError(`packages: internal: no repository key ${url} -> ${target} in the plan`);
    checkPins(key, body, url);
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
    if (proxy) ({ status, body } = await getViaProxy(url, proxy, signal, 5, {}, MAX_KEY_BYTES));
    else {
      const res = await fetch(url, { signal, redirect: 'follow' });
      status = res.status;
      body = await cappedBody(res);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'E2BIG') throw new StepError(`packages: ${url} is larger than ${MAX_KEY_BYTES / 1024} KiB: not a repository key`, 'check repositories.*.key in the config');
    throw new StepError(`packages: cannot download repository key ${url}${proxy ? ' through the proxy' : ''}: ${(e as Error).cause ?? (e as Error).message}`, 'check the network and proxy, or give the key as a local file (repositories.*.key: /path)', true, { cause: e });
  }
  if (status < 200 || status > 299) throw new StepError(`packages: repository key ${url}: HTTP ${status}`, status >= 500 ? 'the server failed; joinagent retries' : status === 407 ? 'the proxy wants credentials: check the user and password in proxy.http/https' : 'check repositories.*.key / url in the config', status >= 500);
  if (!body.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') && body[0] !== undefined && (body[0] & 0x80) === 0) {
    throw new StepError(`packages: ${url} is not an OpenPGP key (got ${body.length} bytes starting "${body.subarray(0, 20).toString('latin1')}")`, 'check repositories.*.key in the config');
  }
  return body;
}

// The body, up to MAX_KEY_BYTES: a server that sends more is not serving a key.
async function cappedBody(res: Response): Promise<Buffer> {
  const tooLarge = (): Error => Object.assign(new Error(`larger than ${MAX_KEY_BYTES} bytes`), { code: 'E2BIG' });
  if (Number(res.headers.get('content-length')) > MAX_KEY_BYTES) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_KEY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

// Every primary key of a keyring must be pinned, when pins are configured: a keyring
// with the right key and one more would let that other key sign packages too.
function checkPins(key: RepoKey, data: Buffer, from: string): void {
  if (!key.fingerprints?.length) return;
  const bad = unpinned(key, data);
  if (bad.length === 0) return;
  throw new StepError(
    `packages: the repository key from ${from} is ${bad.join(', ')}, not pinned in repositories.*.keyFingerprints (${key.fingerprints.join(', ')})`,
    'someone may have replaced the key (or the repository changed its key): compare with the repository\'s published fingerprint (gpg --show-keys KEYFILE) before changing keyFingerprints',
  );
}

function unpinned(key: RepoKey, data: Buffer): string[] {
  let fprs: string[];
  try {
    fprs = keyFingerprints(data);
  } catch (e) {
    return [`unreadable (${(e as Error).message})`];
  }
  if (fprs.length === 0) return ['empty (no public key in it)'];
  return fprs.filter((f) => !key.fingerprints!.includes(f));
}
