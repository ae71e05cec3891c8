import { joinHostPort } from '../config/formats.js';
import { registerSecret } from '../host/redact.js';
import { caPin, parsePemCertificates } from './capin.js';
import { probeApiServer, runChecks, safeJson, type Checks, type DiscoveryResult, type Throttled } from './discovery-core.js';
import { CLUSTER_INFO_PATH } from './discovery.js';
import { DiscoveryKubeconfigError, isHttpsUrl, parseDiscoveryKubeconfig, type DiscoveryKubeconfig } from './discovery-kubeconfig.js';
import { httpsRequest, NetError } from './https.js';
import { parseKubeconfig } from './kubeconfig.js';

// kubeadm's file discovery (discovery.file.kubeConfigPath), done read-only and step by
// step: the kubeconfig (a file, or an https:// URL fetched with this host's CA bundle),
// the credentials the TLS bootstrap will use, TCP/TLS verified by the file's CA,
// /healthz, /version skew, clock, kubeadm's cluster-info refresh, and whether the
// API server accepts the credentials. There is no CA pin: the file's CA is the trust.
export interface FileDiscoveryInput {
  kubeConfigPath: string;
  /** The bootstrap token for the TLS bootstrap (tlsBootstrapToken, join.tokenFile, the credential). */
  token?: string;
  kubeletVersion: string;
  /** Reads a file named by the config (real paths, as the loader does); null when unreadable. */
  readFile: (p: string) => Promise<string | null>;
  connectTimeoutMs?: number;
  onThrottled?: Throttled;
  /** The run's signal: a stopping agent does not wait for a slow endpoint. */
  signal?: AbortSignal;
  now?: () => number;
}

const TOKEN_HINT = 'tokens live 24h: run `kubeadm token create` on the control plane and put the new token in discovery.tlsBootstrapToken or join.tokenFile';
const NO_CREDENTIALS = 'the kubeconfig has no credentials and no bootstrap token is configured: kubeadm cannot do the TLS bootstrap';

export function discoverFromFile(input: FileDiscoveryInput): Promise<DiscoveryResult> {
  return runChecks(async (c, out) => {
    const source = input.kubeConfigPath;
    const text = await loadKubeconfigText(source, input.readFile, input.signal).catch((e: Error) => c.fail('file', e.message, isHttpsUrl(source) ? 'is the URL right and its server certificate signed by a CA in this host\'s bundle (/etc/ssl/certs)?' : 'write the file (e.g. the cluster-info kubeconfig: `kubectl -n kube-public get cm cluster-info -o jsonpath={.data.kubeconfig}`)', isHttpsUrl(source)));
    const kc = await parseDiscoveryKubeconfig(text, source, input.readFile).catch((e: unknown) => {
      if (e instanceof DiscoveryKubeconfigError) return c.fail('file', e.message, 'fix the discovery kubeconfig (kubeadm reads it the same way)', false);
      throw e;
    });
    // a token inside a fetched kubeconfig is as secret as one in the config
    if (kc.auth.token) registerSecret(kc.auth.token);
    const pins = kc.caPem ? parsePemCertificates(kc.caPem).map(caPin) : [];
    out.clusterCaPins = pins;
    out.caPem = kc.caPem;
    const at = `cluster ${kc.clusterName ? `"${kc.clusterName}"` : '(unnamed)'} at ${kc.server}`;
    if (kc.insecure) c.add('file', 'warn', `${source}: ${at} with insecure-skip-tls-verify: the control plane is not authenticated`, 'put the cluster CA in the kubeconfig (certificate-authority-data)');
    else c.add('file', 'pass', `${source}: ${at}, CA ${pins[0]} (${kc.caSource})`);

    const auth = authFor(kc, input.token);
    if (!auth) c.fail('auth', NO_CREDENTIALS, 'set discovery.tlsBootstrapToken or join.tokenFile (a `kubeadm token create` token), or use a kubeconfig with credentials', false);
    if (kc.auth.kind === 'basic' && !input.token) c.fail('auth', `the kubeconfig authenticates user "${kc.auth.user}" with a username and password: kube-apiserver dropped basic authentication in v1.19`, 'use a bootstrap token (discovery.tlsBootstrapToken or join.tokenFile) or a client certificate', false);
    c.add('auth', 'pass', `the TLS bootstrap will authenticate with ${auth!.what}`);

    const tlsHint = `the API server's certificate is not signed by the CA in ${kc.caSource === 'certificate-authority-data' ? source : kc.caSource}: a different cluster, an outdated file, or the connection is intercepted; compare \`joinagent ca-hash\` on the control plane with ${pins[0] ?? 'the file\'s CA'}`;
    const get = await probeApiServer(c, out, kc.host, kc.port, { kubeletVersion: input.kubeletVersion, ca: kc.caPem, tlsHint, connectTimeoutMs: input.connectTimeoutMs, signal: input.signal, now: input.now, onThrottled: input.onThrottled });
    await clusterInfoRefresh(c, get, kc);

    const r = await get(auth!.check, '/version', { auth: auth!.request });
    if (r.status === 401) {
      if (input.token) c.fail('token', `bootstrap token "${input.token.split('.')[0]}" is unknown or expired: the API server refused it (401)`, TOKEN_HINT, false);
      c.fail('credentials', `the API server refused the kubeconfig's credentials (401, user "${kc.auth.user}")`, 'the credentials in the discovery kubeconfig are wrong or expired', false);
    }
    c.add(auth!.check, 'pass', `the API server accepts ${auth!.what}`);
  });
}

// What kubeadm's For() does: tlsBootstrapToken wins over the file's own credentials.
function authFor(kc: DiscoveryKubeconfig, token: string | undefined): { what: string; check: 'token' | 'credentials'; request: { headers?: Record<string, string>; cert?: string; key?: string } } | undefined {
  if (token) return { what: `bootstrap token "${token.split('.')[0]}"`, check: 'token', request: { headers: { authorization: `Bearer ${token}` } } };
  if (kc.auth.kind === 'token') return { what: `the kubeconfig's token (user "${kc.auth.user}")`, check: 'credentials', request: { headers: { authorization: `Bearer ${kc.auth.token}` } } };
  if (kc.auth.kind === 'client-cert') return { what: `the kubeconfig's client certificate (user "${kc.auth.user}")`, check: 'credentials', request: { cert: kc.auth.certPem, key: kc.auth.keyPem } };
  if (kc.auth.kind === 'basic') return { what: 'basic authentication', check: 'credentials', request: {} };
  return undefined;
}

// kubeadm reads cluster-info with the file's client: 403 = proceed (the TLS certificate
// is trusted), not found or any other error = retry until timeouts.discovery, then fail.
async function clusterInfoRefresh(c: Checks, get: Awaited<ReturnType<typeof probeApiServer>>, kc: DiscoveryKubeconfig): Promise<void> {
  const auth = kc.auth.kind === 'token' ? { headers: { authorization: `Bearer ${kc.auth.token}` } } : kc.auth.kind === 'client-cert' ? { cert: kc.auth.certPem, key: kc.auth.keyPem } : undefined;
  const r = await get('cluster-info', CLUSTER_INFO_PATH, { auth });
  if (r.status === 403) return c.add('cluster-info', 'pass', 'kube-public/cluster-info is not readable by this client (403): kubeadm proceeds, the API server\'s certificate being verified');
  if (r.status === 401) c.fail('cluster-info', `the API server refused the kubeconfig's credentials (401, user "${kc.auth.user}")`, 'the credentials in the discovery kubeconfig are wrong or expired', false);
  if (r.status === 404) c.fail('cluster-info', 'kube-public/cluster-info does not exist: kubeadm\'s file discovery retries reading it until timeouts.discovery (5m) and then fails', 'on the control plane: `kubeadm init phase bootstrap-token` publishes it', false);
  if (r.status !== 200) c.fail('cluster-info', `reading kube-public/cluster-info answered ${r.status}: kubeadm retries until timeouts.discovery, then fails`, 'check the control plane (kube-apiserver logs)', true);
  const published = safeJson<{ data?: { kubeconfig?: string } }>(r.body)?.data?.kubeconfig;
  let server: string | undefined;
  try {
    server = published ? parseKubeconfig(published, 'cluster-info').server : undefined;
  } catch {
    server = undefined;
  }
  if (server && server !== kc.server) return c.add('cluster-info', 'warn', `cluster-info names the API server ${server}, the kubeconfig ${kc.server}: kubeadm uses the kubeconfig's and warns`, 'update the discovery kubeconfig if the control plane moved');
  c.add('cluster-info', 'pass', `read kube-public/cluster-info over verified TLS${server ? ': it names the same API server' : ''}`);
}

// Where the discovery kubeconfig's API server is, for node-IP detection ("host:port").
export async function fileDiscoveryEndpoint(kubeConfigPath: string, readFile: (p: string) => Promise<string | null>): Promise<string> {
  const kc = await parseDiscoveryKubeconfig(await loadKubeconfigText(kubeConfigPath, readFile), kubeConfigPath, readFile);
  return joinHostPort(kc.host, kc.port);
}

async function loadKubeconfigText(source: string, readFile: (p: string) => Promise<string | null>, signal?: AbortSignal): Promise<string> {
  if (!isHttpsUrl(source)) {
    const text = await readFile(source);
    if (text === null) throw new Error(`cannot read ${source}`);
    return text;
  }
  const u = new URL(source);
  const r = await httpsRequest({ host: u.hostname, port: Number(u.port || 443), path: `${u.pathname}${u.search}`, ca: await systemCaBundle(readFile), signal }).catch((e: unknown) => {
    throw new Error(`cannot fetch ${source}: ${e instanceof NetError ? e.message : String(e)}`);
  });
  // kubeadm does not look at the status either: a non-kubeconfig body fails to parse
  if (r.status !== 200) throw new Error(`cannot fetch ${source}: HTTP ${r.status}`);
  return r.body;
}

// The CA bundle Go's crypto/x509 (hence kubeadm) trusts on Linux: $SSL_CERT_FILE, else
// the first of the distributions' bundle files that exists.
const BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/pki/tls/cacert.pem', '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', '/etc/ssl/cert.pem'];
async function systemCaBundle(readFile: (p: string) => Promise<string | null>): Promise<string> {
  for (const f of [process.env.SSL_CERT_FILE, ...BUNDLES]) {
    const text = f ? await readFile(f) : null;
    if (text) return text;
  }
  throw new Error(`no CA bundle on this host (${BUNDLES[0]}, ...): the https:// kubeconfig cannot be verified`);
}
