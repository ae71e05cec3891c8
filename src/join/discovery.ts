import { isIP } from 'node:net';
import { joinHostPort, splitHostPort } from '../config/formats.js';
import { redact } from '../host/redact.js';
import { parsePemCertificates, caPin, pinMatches } from './capin.js';
import { httpsRequest, NetError, tcpProbe, type HttpsResponse, lookup } from './https.js';
import { verifyDetachedJws, describeJws, splitToken } from './jws.js';
import { parseKubeconfig } from './kubeconfig.js';
import { netDiagnosis } from './netdiag.js';
import { versionSkew } from './version.js';

export interface DiscoveryInput {
  endpoint: string;
  token?: string;
  caCertHashes: string[];
  unsafeSkipCAVerification: boolean;
  kubeletVersion: string;
  connectTimeoutMs?: number;
  now?: () => number;
}

export type CheckLevel = 'pass' | 'warn' | 'fail' | 'skip';
export interface DiscoveryCheck {
  name: string;
  level: CheckLevel;
  message: string;
  hint?: string;
}

export interface DiscoveryResult {
  ok: boolean;
  checks: DiscoveryCheck[];
  failure?: DiscoveryCheck;
  retryable: boolean;
  serverVersion?: string;
  clusterCaPins?: string[];
  clockSkewMs?: number;
}

export const CLUSTER_INFO_PATH = '/api/v1/namespaces/kube-public/configmaps/cluster-info';
const CLOCK_WARN_MS = 10_000;
// Kubernetes' CSR signer backdates certificates by 5 minutes; beyond that a node's
// clock makes fresh certificates "not yet valid" (or expired) in x509 checks.
const CLOCK_FAIL_MS = 5 * 60_000;
const TOKEN_HINT = 'tokens live 24h: run `kubeadm token create --print-join-command` on the control plane and put the new token in the config';

class Stop extends Error {
  constructor(readonly retryable: boolean) {
    super('stop');
  }
}

// kubeadm's token discovery, done read-only and step by step so that the first thing
// that fails is named: TCP, TLS, /healthz, /version (skew), clock, cluster-info, the
// token's JWS, the CA pin, then a second fetch verified by the pinned CA.
export async function discover(input: DiscoveryInput): Promise<DiscoveryResult> {
  const checks: DiscoveryCheck[] = [];
  const out: DiscoveryResult = { ok: false, checks, retryable: false };
  const add = (name: string, level: CheckLevel, message: string, hint?: string): void => {
    checks.push({ name, level, message: redact(message), hint: hint && redact(hint) });
  };
  const fail = (name: string, message: string, hint: string | undefined, retryable: boolean): never => {
    add(name, 'fail', message, hint);
    throw new Stop(retryable);
  };
  const hp = splitHostPort(input.endpoint);
  try {
    if (!hp) return fail('endpoint', `apiServerEndpoint "${input.endpoint}" is not host:port`, 'fix discovery.bootstrapToken.apiServerEndpoint', false);
    const { host, port } = hp;
    const netFail = (name: string, e: unknown): never => {
      if (!(e instanceof NetError)) throw e;
      const d = netDiagnosis(e, host, port);
      return fail(name, d.message, d.hint, d.retryable);
    };
    if (!isIP(host.replace(/^\[|\]$/g, ''))) {
      const addr = await lookup(host).catch((e: unknown) => netFail('dns', new NetError('dns', (e as Error).message, (e as NodeJS.ErrnoException).code)));
      add('dns', 'pass', `${host} resolves to ${addr.address}`);
    }
    const ms = await tcpProbe(host, port, input.connectTimeoutMs).catch((e: unknown) => netFail('tcp', e));
    add('tcp', 'pass', `TCP connect to ${joinHostPort(host, port)} in ${ms} ms`);

    const get = async (name: string, path: string, ca?: string): Promise<HttpsResponse & { rttMid: number }> => {
      const t0 = (input.now ?? Date.now)();
      const r = await httpsRequest({ host, port, path, ca, connectTimeoutMs: input.connectTimeoutMs }).catch((e: unknown) => netFail(name, e));
      return { ...r, rttMid: (t0 + (input.now ?? Date.now)()) / 2 };
    };
    const health = await get('tls', '/healthz');
    add('tls', 'pass', `TLS handshake with ${joinHostPort(host, port)}`);
    if (health.status !== 200 || health.body.trim() !== 'ok') {
      fail('healthz', `API server /healthz answered ${health.status}: ${health.body.trim().slice(0, 200) || '(empty)'}`, 'the control plane is not healthy: on it, `kubectl get --raw "/healthz?verbose"` and the kube-apiserver logs', true);
    }
    add('healthz', 'pass', '/healthz: ok');

    const ver = await get('version', '/version');
    const gitVersion = safeJson<{ gitVersion?: string }>(ver.body)?.gitVersion;
    if (ver.status !== 200 || !gitVersion) fail('version', `API server /version answered ${ver.status} without a gitVersion`, 'is this a Kubernetes API server?', true);
    out.serverVersion = gitVersion;
    const skew = versionSkew(input.kubeletVersion, gitVersion!);
    if (skew.level === 'fail') fail('version', skew.message!, skew.hint, false);
    add('version', skew.level === 'warn' ? 'warn' : 'pass', skew.message ?? `API server ${gitVersion} matches kubernetesVersion`, skew.hint);

    const date = Date.parse(String(ver.headers.date ?? ''));
    if (Number.isNaN(date)) add('clock', 'skip', 'the API server sent no Date header: clock not compared');
    else {
      // the Date header has 1 s resolution and was stamped somewhere in the round trip
      const skewMs = date + 500 - ver.rttMid;
      out.clockSkewMs = Math.round(skewMs);
      const text = `this node's clock is ${formatSkew(skewMs)} the API server's`;
      const hint = 'turn on time sync (`timedatectl set-ntp true`, host.ntp: true) on this node and the control plane; check `timedatectl` / `chronyc tracking`';
      if (Math.abs(skewMs) > CLOCK_FAIL_MS) fail('clock', `clock skew: ${text}; certificates will fail x509 checks ("not yet valid" / "expired")`, hint, false);
      add('clock', Math.abs(skewMs) > CLOCK_WARN_MS ? 'warn' : 'pass', Math.abs(skewMs) > CLOCK_WARN_MS ? `clock skew: ${text}` : 'clock within 10s of the API server', Math.abs(skewMs) > CLOCK_WARN_MS ? hint : undefined);
    }

    const ci = await get('cluster-info', CLUSTER_INFO_PATH);
    const cm = clusterInfoData(ci, fail);
    add('cluster-info', 'pass', 'read kube-public/cluster-info anonymously');

    if (!input.token) {
      add('token', 'skip', 'no bootstrap token configured: signature not checked');
    } else {
      const { id, secret } = splitToken(input.token);
      const jws = cm[`jws-kubeconfig-${id}`];
      if (!jws) fail('token', `token "${id}" is unknown or expired: cluster-info has no signature for it (jws-kubeconfig-${id})`, TOKEN_HINT, false);
      if (!verifyDetachedJws(jws, cm.kubeconfig, id, secret)) {
        const why = describeJws(jws, id);
        fail('token', why ? `the cluster-info signature for token "${id}" ${why}` : `the cluster-info signature for token "${id}" does not verify: the token's secret is wrong (the id "${id}" exists; the part after the dot differs)`, 'copy the whole token again from `kubeadm token list` or `kubeadm token create --print-join-command` on the control plane', false);
      }
      add('token', 'pass', `token "${id}" signs cluster-info (JWS HS256 verified)`);
    }

    const kc = (() => {
      try {
        return parseKubeconfig(cm.kubeconfig, 'cluster-info kubeconfig');
      } catch (e) {
        return fail('ca-pin', (e as Error).message, 'the control plane publishes a broken cluster-info: re-run `kubeadm init phase bootstrap-token` there', false);
      }
    })();
    const certs = kc.caPem ? parsePemCertificates(kc.caPem) : [];
    if (certs.length === 0) fail('ca-pin', 'the cluster-info kubeconfig carries no CA certificate', 'check the control plane\'s cluster-info ConfigMap', false);
    const pins = certs.map(caPin);
    out.clusterCaPins = pins;
    if (input.caCertHashes.length === 0) {
      add('ca-pin', 'warn', `cluster CA ${pins[0]} is not pinned (unsafeSkipCAVerification): anyone who can intercept the connection could impersonate the control plane`, `pin it: caCertHashes: ["${pins[0]}"] after comparing with \`joinagent ca-hash\` on the control plane`);
    } else {
      if (!pinMatches(pins, input.caCertHashes)) {
        fail('ca-pin', `CA pin mismatch: the cluster CA in cluster-info is ${pins.join(', ')}, but caCertHashes allows ${input.caCertHashes.join(', ')}: a different cluster, or the connection is intercepted`, 'run `joinagent ca-hash` on the control plane and compare; change caCertHashes only if that output matches', false);
      }
      add('ca-pin', 'pass', `cluster CA ${pins[0]} matches caCertHashes`);
      const again = await get('ca-verified', CLUSTER_INFO_PATH, kc.caPem);
      const cm2 = clusterInfoData(again, fail);
      if (cm2.kubeconfig !== cm.kubeconfig) fail('ca-verified', 'cluster-info fetched over TLS verified by the pinned CA differs from the first fetch', 'something between this node and the control plane alters traffic; do not join', false);
      add('ca-verified', 'pass', 'cluster-info fetched again over TLS verified by the pinned CA: identical');
    }
    out.ok = true;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    out.retryable = e.retryable;
    out.failure = checks[checks.length - 1];
  }
  return out;
}

function clusterInfoData(r: HttpsResponse, fail: (n: string, m: string, h: string | undefined, retry: boolean) => never): Record<string, string> & { kubeconfig: string } {
  if (r.status === 404) fail('cluster-info', 'the cluster-info ConfigMap does not exist in kube-public: this API server is not set up for token bootstrapping', 'on the control plane: `kubeadm init phase bootstrap-token`', false);
  if (r.status === 401 || r.status === 403) fail('cluster-info', `anonymous read of kube-public/cluster-info was refused (${r.status})`, 'on the control plane: `kubeadm init phase bootstrap-token` restores the RBAC rule that lets joining nodes read it', false);
  if (r.status !== 200) fail('cluster-info', `reading kube-public/cluster-info answered ${r.status}`, 'check the control plane', true);
  const data = safeJson<{ data?: Record<string, string> }>(r.body)?.data;
  if (!data?.kubeconfig) fail('cluster-info', 'the cluster-info ConfigMap has no "kubeconfig" key: this API server is not set up for token bootstrapping', 'on the control plane: `kubeadm init phase bootstrap-token`', false);
  return data as Record<string, string> & { kubeconfig: string };
}

function safeJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export function formatSkew(ms: number): string {
  const s = Math.abs(ms) / 1000;
  const amount = s >= 120 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`;
  return ms > 0 ? `${amount} behind` : `${amount} ahead of`;
}
