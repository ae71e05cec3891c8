import { existsSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.js';

// What the scenarios need from the join branch's simulated control plane
// (test/fixtures/controlplane.ts): real TLS on host:6443, cluster-info signed for the
// scenario's token, the CA pin, and the Node objects the stand-in kubelet registered.
export interface ControlPlane {
  caCertHash: string;
  /** The fixture itself (test/fixtures/controlplane.ts's ControlPlane), for scenarios that
   *  change the cluster: its ConfigMaps, Nodes, tokens. */
  fixture: Record<string, unknown>;
  nodes(): Promise<K8sNode[]>;
  /** The control plane was upgraded: /version and kubeadm-config say this version now. */
  setVersion?(version: string): void;
  /** Serve kube-system/kubelet-config (what kubeadm upgrade node reads) or answer 404. */
  serveKubeletConfig?(on: boolean): void;
  close(): Promise<void>;
}

export interface K8sNode {
  name: string;
  ready: boolean;
  podCIDR?: string;
  /** spec.podCIDRs: one per family in a dual-stack cluster */
  podCIDRs?: string[];
  /** status.addresses of type InternalIP, in the kubelet's order */
  internalIPs?: string[];
  /** status.capacity.pods (kubelet's maxPods) */
  podsCapacity?: string;
  /** the Ready condition's lastHeartbeatTime: when the kubelet last posted it */
  readyHeartbeat?: string;
  /** status.nodeInfo.kubeletVersion */
  kubeletVersion?: string;
}

const FIXTURE = path.join(repoRoot, 'test/fixtures/controlplane.ts');

export function controlPlaneAvailable(): boolean {
  return existsSync(FIXTURE);
}

// Starts the fixture; a scenario that needs it fails loudly until it has landed.
export async function startControlPlane(host: string, token: string, version = 'v1.32.11', port = 6443, extra: Record<string, unknown> = {}): Promise<ControlPlane> {
  if (!controlPlaneAvailable()) throw new Error(`the simulated control plane ${path.relative(repoRoot, FIXTURE)} (join branch) has not landed: this scenario cannot run yet`);
  const mod = (await import(pathToFileURL(FIXTURE).href)) as { startControlPlane: (o: Record<string, unknown>) => Promise<Record<string, unknown>> };
  const cp = await mod.startControlPlane({ host, port, tokens: [token], version, ...extra });
  return adapt(cp);
}

// The fixture's exact shape is the join branch's to choose; this is the one place that
// maps it onto what the scenarios read.
function adapt(cp: Record<string, unknown>): ControlPlane {
  const hash = ['caCertHash', 'caHash'].map((k) => cp[k]).find((v) => typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v)) as string | undefined;
  // the scenarios pin the CA with it: without one they would have to skip verification
  if (!hash) throw new Error('the simulated control plane exposes no CA pin (caCertHash or caHash, "sha256:<64 hex>"): the harness will not join without verifying the CA');
  const options = cp.options as { version?: string; served?: { kubeletConfig: boolean } } | undefined;
  return {
    caCertHash: hash,
    setVersion: (v) => void (options && (options.version = v)),
    serveKubeletConfig: (on) => void (options?.served && (options.served.kubeletConfig = on)),
    fixture: cp,
    async nodes() {
      // the API view (what kubectl get nodes shows), read with an admin client cert
      // (admin.conf's identity: a kubelet's own certificate may not list nodes)
      if (typeof cp.issueAdminCert === 'function' && typeof cp.url === 'string' && typeof cp.caPem === 'string') {
        const list = (await getJson(`${cp.url}/api/v1/nodes`, cp.caPem, (cp.issueAdminCert as () => { certPem: string; keyPem: string })())) as { items?: unknown[] };
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
  const o = n as { metadata?: { name?: string }; spec?: { podCIDR?: string; podCIDRs?: string[] }; status?: { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[]; nodeInfo?: { kubeletVersion?: string }; addresses?: { type: string; address: string }[]; capacity?: { pods?: string } }; name?: string; ready?: boolean; podCIDR?: string };
  if (o.metadata) {
    const internalIPs = o.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address);
    const readyCond = o.status?.conditions?.find((c) => c.type === 'Ready');
    return { name: o.metadata.name ?? '', podCIDR: o.spec?.podCIDR, podCIDRs: o.spec?.podCIDRs, ready: readyCond?.status === 'True', internalIPs, podsCapacity: o.status?.capacity?.pods, readyHeartbeat: readyCond?.lastHeartbeatTime, kubeletVersion: o.status?.nodeInfo?.kubeletVersion };
  }
  return { name: o.name ?? '', ready: Boolean(o.ready), podCIDR: o.podCIDR };
}
