import { isIP } from 'node:net';
import { splitHostPort } from '../config/formats.js';
import { parsePemCertificates, caPin, pinMatches } from './capin.js';
import { Checks, probeApiServer, runChecks, safeJson, type DiscoveryResult, type Throttled } from './discovery-core.js';
import { lookup, NetError, type HttpsResponse } from './https.js';
import { verifyDetachedJws, describeJws, splitToken } from './jws.js';
import { parseKubeconfig } from './kubeconfig.js';

export type { CheckLevel, DiscoveryCheck, DiscoveryResult } from './discovery-core.js';
export { formatSkew } from './discovery-core.js';

export interface DiscoveryInput {
  endpoint: string;
  token?: string;
  caCertHashes: string[];
  unsafeSkipCAVerification: boolean;
  kubeletVersion: string;
  connectTimeoutMs?: number;
  /** Each request's overall deadline (default DEFAULT_DEADLINE_MS). */
  requestDeadlineMs?: number;
  /** The run's signal: SIGTERM does not wait for a slow endpoint. */
  signal?: AbortSignal;
  now?: () => number;
  onThrottled?: Throttled;
}

export const CLUSTER_INFO_PATH = '/api/v1/namespaces/kube-public/configmaps/cluster-info';
const TOKEN_HINT = 'tokens live 24h: run `kubeadm token create --print-join-command` on the control plane and put the new token in the config';

// kubeadm's token discovery, done read-only and step by step so that the first thing
// that fails is named: TCP, TLS, /healthz, /version (skew), clock, cluster-info, the
// token's JWS, the CA pin, then a second fetch verified by the pinned CA.
export function discover(input: DiscoveryInput): Promise<DiscoveryResult> {
  return runChecks(async (c, out) => {
    const hp = splitHostPort(input.endpoint);
    if (!hp) return c.fail('endpoint', `apiServerEndpoint "${input.endpoint}" is not host:port`, 'fix discovery.bootstrapToken.apiServerEndpoint', false);
    const { host, port } = hp;
    if (!isIP(host.replace(/^\[|\]$/g, ''))) {
      const addr = await lookup(host).catch((e: unknown) => c.netFail('dns', new NetError('dns', (e as Error).message, (e as NodeJS.ErrnoException).code), host, port));
      c.add('dns', 'pass', `${host} resolves to ${addr.address}`);
    }
    const get = await probeApiServer(c, out, host, port, { kubeletVersion: input.kubeletVersion, connectTimeoutMs: input.connectTimeoutMs, requestDeadlineMs: input.requestDeadlineMs, signal: input.signal, now: input.now, onThrottled: input.onThrottled });
    const ci = await get('cluster-info', CLUSTER_INFO_PATH);
    const cm = clusterInfoData(ci, c);
    c.add('cluster-info', 'pass', 'read kube-public/cluster-info anonymously');

    if (!input.token) {
      c.add('token', 'skip', 'no bootstrap token configured: signature not checked');
    } else {
      const { id, secret } = splitToken(input.token);
      const jws = cm[`jws-kubeconfig-${id}`];
      if (!jws) c.fail('token', `token "${id}" is unknown or expired: cluster-info has no signature for it (jws-kubeconfig-${id})`, TOKEN_HINT, false);
      if (!verifyDetachedJws(jws, cm.kubeconfig, id, secret)) {
        const why = describeJws(jws, id);
        c.fail('token', why ? `the cluster-info signature for token "${id}" ${why}` : `the cluster-info signature for token "${id}" does not verify: the token's secret is wrong (the id "${id}" exists; the part after the dot differs)`, 'copy the whole token again from `kubeadm token list` or `kubeadm token create --print-join-command` on the control plane', false);
      }
      c.add('token', 'pass', `token "${id}" signs cluster-info (JWS HS256 verified)`);
    }

    const kc = (() => {
      try {
        return parseKubeconfig(cm.kubeconfig, 'cluster-info kubeconfig');
      } catch (e) {
        return c.fail('ca-pin', (e as Error).message, 'the control plane publishes a broken cluster-info: re-run `kubeadm init phase bootstrap-token` there', false);
      }
    })();
    const certs = kc.caPem ? parsePemCertificates(kc.caPem) : [];
    if (certs.length === 0) c.fail('ca-pin', 'the cluster-info kubeconfig carries no CA certificate', 'check the control plane\'s cluster-info ConfigMap', false);
    const pins = certs.map(caPin);
    out.clusterCaPins = pins;
    out.caPem = kc.caPem;
    if (input.caCertHashes.length === 0) {
      c.add('ca-pin', 'warn', `cluster CA ${pins[0]} is not pinned (unsafeSkipCAVerification): anyone who can intercept the connection could impersonate the control plane`, `pin it: caCertHashes: ["${pins[0]}"] after comparing with \`joinagent ca-hash\` on the control plane`);
    } else {
      if (!pinMatches(pins, input.caCertHashes)) {
        c.fail('ca-pin', `CA pin mismatch: the cluster CA in cluster-info is ${pins.join(', ')}, but caCertHashes allows ${input.caCertHashes.join(', ')}: a different cluster, or the connection is intercepted`, 'run `joinagent ca-hash` on the control plane and compare; change caCertHashes only if that output matches', false);
      }
      c.add('ca-pin', 'pass', `cluster CA ${pins[0]} matches caCertHashes`);
      const again = await get('ca-verified', CLUSTER_INFO_PATH, { ca: kc.caPem });
      const cm2 = clusterInfoData(again, c);
      if (cm2.kubeconfig !== cm.kubeconfig) c.fail('ca-verified', 'cluster-info fetched over TLS verified by the pinned CA differs from the first fetch', 'something between this node and the control plane alters traffic; do not join', false);
      c.add('ca-verified', 'pass', 'cluster-info fetched again over TLS verified by the pinned CA: identical');
    }
  });
}

export function clusterInfoData(r: HttpsResponse, c: Checks): Record<string, string> & { kubeconfig: string } {
  if (r.status === 404) c.fail('cluster-info', 'the cluster-info ConfigMap does not exist in kube-public: this API server is not set up for token bootstrapping', 'on the control plane: `kubeadm init phase bootstrap-token`', false);
  if (r.status === 401 || r.status === 403) c.fail('cluster-info', `anonymous read of kube-public/cluster-info was refused (${r.status})`, 'on the control plane: `kubeadm init phase bootstrap-token` restores the RBAC rule that lets joining nodes read it', false);
  if (r.status !== 200) c.fail('cluster-info', `reading kube-public/cluster-info answered ${r.status}`, 'check the control plane', true);
  const data = safeJson<{ data?: Record<string, string> }>(r.body)?.data;
  if (!data?.kubeconfig) c.fail('cluster-info', 'the cluster-info ConfigMap has no "kubeconfig" key: this API server is not set up for token bootstrapping', 'on the control plane: `kubeadm init phase bootstrap-token`', false);
  return data as Record<string, string> & { kubeconfig: string };
}
