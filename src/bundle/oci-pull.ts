import path from 'node:path';
import type { LoadedConfig } from '../config/types.js';
import type { Files } from '../host/files.js';
import { proxyFor, type ProxyView } from '../net/proxy.js';
import { getViaProxy } from '../net/proxy-fetch.js';
import { upstreamServer } from '../runtime/registry-hosts.js';
import { registryHost } from '../runtime/images.js';
import { sha256 } from './checksums.js';

// Pulls one image for one platform over the OCI distribution API into an OCI image
// layout directory that `ctr images import` reads (index.json names it with the
// io.containerd.image.name annotation). Tried in containerd's order: the configured
// mirrors of the image's registry, then the registry itself. Every blob is checked
// against its digest. Anonymous bearer tokens (registry.k8s.io, Docker Hub) and the
// basic credentials of registries.<host> are supported.
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' };
// Nothing a registry sends is read without a bound (the bundle is built in memory): a
// manifest or index as containerd bounds them (4 MiB), a blob at the size its descriptor
// declares, a token answer at 1 MiB. A larger answer is an error, not an exhausted host.
const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_TOKEN_BYTES = 1 << 20;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string };
}

export interface PullOptions {
  config: LoadedConfig;
  files: Files;
  arch: string;
  proxy?: ProxyView;
  signal: AbortSignal;
  progress(m: string): void;
}

export async function pullToLayout(ref: string, layout: string, o: PullOptions): Promise<{ endpoint: string }> {
  const host = registryHost(ref);
  const rest = ref.slice(ref.indexOf('/') + 1);
  const at = rest.lastIndexOf(':');
  const repo = rest.slice(0, at);
  const tag = rest.slice(at + 1);
  const endpoints = [...(o.config.agent.containerd.registryMirrors[host] ?? []), upstreamServer(host)].map((e) => e.replace(/\/+$/, ''));
  const errors: string[] = [];
  for (const ep of endpoints) {
    try {
      const client = registryClient(ep, o);
      o.progress(`pulling ${ref} from ${ep}`);
      let top = await client.get(`/v2/${repo}/manifests/${tag}`, [...INDEX_TYPES, ...MANIFEST_TYPES], MAX_MANIFEST_BYTES);
      let manifestType = contentType(top.headers, top.body);
      if (INDEX_TYPES.includes(manifestType)) {
        const index = JSON.parse(top.body.toString('utf8')) as { manifests: Descriptor[] };
        const want = GO_ARCH[o.arch] ?? o.arch;
        const d = index.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === want);
        if (!d) throw new Error(`no linux/${want} image in ${ep}/${repo}:${tag}`);
        top = await client.get(`/v2/${repo}/manifests/${d.digest}`, MANIFEST_TYPES, Math.min(d.size, MAX_MANIFEST_BYTES), d.digest);
        manifestType = d.mediaType;
      }
      const manifest = JSON.parse(top.body.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
      const blobs = path.posix.join(layout, 'blobs/sha256');
      await o.files.mkdir(blobs);
      const manifestDigest = `sha256:${sha256(top.body)}`;
      await o.files.write(path.posix.join(blobs, manifestDigest.slice(7)), top.body, { backup: false });
      for (const d of [manifest.config, ...manifest.layers]) {
        const blob = await client.get(`/v2/${repo}/blobs/${d.digest}`, ['*/*'], d.size, d.digest);
        await o.files.write(path.posix.join(blobs, d.digest.slice(7)), blob.body, { backup: false });
      }
      await o.files.write(path.posix.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}\n', { backup: false });
      const index = { schemaVersion: 2, manifests: [{ mediaType: manifestType, digest: manifestDigest, size: top.body.length, annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': tag } }] };
      await o.files.write(path.posix.join(layout, 'index.json'), JSON.stringify(index) + '\n', { backup: false });
      return { endpoint: ep };
    } catch (e) {
      errors.push(`${ep}: ${(e as Error).message}`);
    }
  }
  throw new Error(`cannot pull ${ref}: ${errors.join('; ')}`);
}

function contentType(headers: Record<string, string | string[] | undefined>, body: Buffer): string {
  const h = headers['content-type'];
  const t = (Array.isArray(h) ? h[0] : h)?.split(';')[0].trim();
  if (t && t !== 'application/json') return t;
  return (JSON.parse(body.toString('utf8')) as { mediaType?: string }).mediaType ?? MANIFEST_TYPES[0];
}

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

// GETs against one registry endpoint, answering its auth challenge once per scope.
function registryClient(endpoint: string, o: PullOptions) {
  const host = new URL(endpoint).host;
  const creds = o.config.agent.registries[host];
  const basic = creds?.username && creds.password !== undefined ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
  let authorization: string | undefined;
  const raw = async (url: string, headers: Record<string, string>, maxBytes: number): Promise<Got> => {
    const proxy = proxyFor(url, o.proxy);
    const signal = AbortSignal.any([o.signal, AbortSignal.timeout(10 * 60_000)]);
    if (proxy) return getViaProxy(url, proxy, signal, 5, headers, maxBytes);
    const res = await fetch(url, { headers, signal, redirect: 'follow' });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await readCapped(url, res, maxBytes) };
  };
  return {
    async get(p: string, accept: string[], maxBytes: number, digest?: string): Promise<Got> {
      const url = `${endpoint}${p}`;
      const headers = (): Record<string, string> => ({ accept: accept.join(', '), ...(authorization ? { authorization } : {}) });
      let r = await raw(url, headers(), maxBytes);
      if (r.status === 401) {
        const challenge = String(r.headers['www-authenticate'] ?? '');
        if (/^Bearer /i.test(challenge)) {
          const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
          const tokenUrl = new URL(params.realm);
          if (params.service) tokenUrl.searchParams.set('service', params.service);
          if (params.scope) tokenUrl.searchParams.set('scope', params.scope);
          const t = await raw(tokenUrl.href, basic ? { authorization: basic } : {}, MAX_TOKEN_BYTES);
          if (t.status !== 200) throw new Error(`token from ${tokenUrl.origin}: HTTP ${t.status}`);
          const body = JSON.parse(t.body.toString('utf8')) as { token?: string; access_token?: string };
          authorization = `Bearer ${body.token ?? body.access_token}`;
        } else if (basic) authorization = basic;
        else throw new Error(`${url}: HTTP 401 (set registries."${host}" username and password)`);
        r = await raw(url, headers(), maxBytes);
      }
      if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
      if (digest && `sha256:${sha256(r.body)}` !== digest) throw new Error(`${url}: content does not match its digest ${digest}`);
      return r;
    },
  };
}

// The body, read only up to maxBytes: a registry that sends more than it declared (or a
// huge error page) is cut off with an error naming the URL.
async function readCapped(url: string, res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`${url}: the answer is larger than ${maxBytes} bytes (Content-Length ${declared})`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body) {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += c.length;
      if (size > maxBytes) {
        await res.body.cancel().catch(() => undefined);
        throw new Error(`${url}: the answer is larger than ${maxBytes} bytes`);
      }
      chunks.push(Buffer.from(c));
    }
  }
  return Buffer.concat(chunks);
}
