import { existsSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.js';

// What the scenarios need from the join branch's simulated control plane
// (test/fixtures/controlplane.ts): real TLS on host:6443, cluster-info signed for the
// scenario's token, the CA pin, and the Node objects the stand-in kubelet registered.
export interface ControlPlane {
  caCertHash?: string;
  /** The fixture itself (test/fixtures/controlplane.ts's ControlPlane), for scenarios that
   *  change the cluster: its ConfigMaps, Nodes, tokens. */
  fixture: Record<string, unknown>;
  nodes(): Promise<K8sNode[]>;
  close(): Promise<void>;
}

export interface K8sNode {
  name: string;
  ready: boolean;
  podCIDR?: string;
  /** status.addresses of type InternalIP, in the kubelet's order */
  internalIPs?: string[];
  /** status.capacity.pods (kubelet's maxPods) */
  podsCapacity?: string;
}

const FIXTURE = path.join(repoRoot, 'test/fixtures/controlplane.ts');

export function controlPlaneAvailable(): boolean {
  return existsSync(FIXTURE);
}

// Starts the fixture; a scenario that needs it fails loudly until it has landed.
export async function startControlPlane(host: string, token: string, version = 'v1.32.11', port = 6443): Promise<ControlPlane> {
  if (!controlPlaneAvailable()) throw new Error(`the simulated control plane ${path.relative(repoRoot, FIXTURE)} (join branch) has not landed: this scenario cannot run yet`);
  const mod = (await import(pathToFileURL(FIXTURE).href)) as { startControlPlane: (o: Record<string, unknown>) => Promise<Record<string, unknown>> };
  const cp = await mod.startControlPlane({ host, port, tokens: [token], version });
  return adapt(cp);
}

// The fixture's exact shape is the join branch's to choose; this is the one place that
// maps it onto what the scenarios read.
function adapt(cp: Record<string, unknown>): ControlPlane {
  const hash = ['caCertHash', 'caHash', 'caPin'].map((k) => cp[k]).find((v) => typeof v === 'string') as string | undefined;
  return {
    caCertHash: hash,
    fixture: cp,
    async nodes() {
      // the API view (what kubectl get nodes shows), read with an admin client cert
      if (typeof cp.issueClientCert === 'function' && typeof cp.url === 'string' && typeof cp.caPem === 'string') {
        const list = (await getJson(`${cp.url}/api/v1/nodes`, cp.caPem, (cp.issueClientCert as (n: string) => { certPem: string; keyPem: string })('e2e-admin'))) as { items?: unknown[] };
        return (list.items ?? []).map(toNode);
      }
      const raw = typeof cp.nodes === 'function' ? await (cp.nodes as () => unknown)() : cp.nodes instanceof Map ? [...(cp.nodes as Map<string, unknown>).values()] : cp.nodes;
      return (Array.isArray(raw) ? raw : []).map(toNode);
    },
    close: async () => {
      if (typeof cp.close === 'function') await (cp.close as () => Promise<void>)();
    },
  };
}

function getJson(url: string, ca: string, client: { certPem: string; keyPem: string }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, cert: client.certPem, key: client.keyPem, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

// Accepts either a Kubernetes Node object or a flattened summary.
function toNode(n: unknown): K8sNode {
  const o = n as { metadata?: { name?: string }; spec?: { podCIDR?: string }; status?: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[]; capacity?: { pods?: string } }; name?: string; ready?: boolean; podCIDR?: string };
  if (o.metadata) {
    const internalIPs = o.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address);
    return { name: o.metadata.name ?? '', podCIDR: o.spec?.podCIDR, ready: Boolean(o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')), internalIPs, podsCapacity: o.status?.capacity?.pods };
  }
  return { name: o.name ?? '', ready: Boolean(o.ready), podCIDR: o.podCIDR };
}
