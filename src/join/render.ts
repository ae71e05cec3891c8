import { stringify } from 'yaml';
import type { JoinDocument } from '../config/types.js';

export const TOKEN_PLACEHOLDER = '<redacted>';

// The JoinConfiguration kubeadm gets: what the user wrote, plus the token (injected from
// join.tokenFile or the systemd credential; discovery.tlsBootstrapToken with file discovery), the node IP as kubelet's node-ip unless the
// user set one, and the CRI socket made explicit. token undefined = the copy kept after
// the join, with the token removed.
export function renderJoinConfig(join: JoinDocument, token: string | undefined, nodeIP: string | undefined, source: string, patchesDir?: string): string {
  const doc = structuredClone(join.raw) as Record<string, unknown>;
  doc.apiVersion = join.apiVersion;
  doc.kind = 'JoinConfiguration';
  const discovery = obj(doc, 'discovery');
  if (join.discovery?.kind === 'file') {
    // file discovery: kubeadm's TLS bootstrap takes the token from tlsBootstrapToken
    if (token) discovery.tlsBootstrapToken = token;
    else delete discovery.tlsBootstrapToken;
  } else {
    const bt = obj(discovery, 'bootstrapToken');
    if (token) bt.token = token;
    else {
      // the copy kept after the join holds no token: a TLS bootstrap one neither
      delete bt.token;
      delete discovery.tlsBootstrapToken;
    }
  }
  // kubelet: settings are a patch in joinagent's directory, beside copies of the operator's
  if (patchesDir) doc.patches = { directory: patchesDir };
  const reg = obj(doc, 'nodeRegistration');
  reg.criSocket ??= join.criSocket;
  if (nodeIP && !userNodeIP(join)) {
    if (join.apiVersion === 'kubeadm.k8s.io/v1beta3') obj(reg, 'kubeletExtraArgs')['node-ip'] = nodeIP;
    else reg.kubeletExtraArgs = [...((reg.kubeletExtraArgs as unknown[]) ?? []), { name: 'node-ip', value: nodeIP }];
  }
  const header = `# Rendered by joinagent from ${source} for \`kubeadm join --config\`.\n# ${token ? 'Holds the bootstrap token until the join succeeds.' : 'The bootstrap token was removed after the join.'}\n`;
  return header + stringify(doc, { lineWidth: 0 });
}

// node-ip the user already chose wins over nodeIP detection.
export function userNodeIP(join: JoinDocument): string | undefined {
  return join.kubeletExtraArgs.find((a) => a.name === 'node-ip')?.value;
}

function obj(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = parent[key];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  parent[key] = fresh;
  return fresh;
}
