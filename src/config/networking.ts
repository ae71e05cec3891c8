import { familyOf, parseCidr, type Cidr, type Family } from './cidr.js';
import { splitHostPort } from './formats.js';
import type { AgentConfig, JoinDocument } from './types.js';

// IP families of a node and its cluster. kubeadm's ClusterConfiguration writes the pod
// and service ranges as `networking.podSubnet` / `networking.serviceSubnet`: one CIDR, or
// two of different families for dual-stack ("10.244.0.0/16,fd00:10:244::/56"). The
// same strings are accepted here so an operator can copy them from the kubeadm-config
// ConfigMap; the first CIDR's family is the cluster's primary one.
export { familyOf, parseCidr, type Cidr, type Family } from './cidr.js';

// kube-apiserver's limit, which kubeadm repeats: at most 20 host bits in a service range.
const MAX_SERVICE_HOST_BITS = 20;

// kubeadm's ValidateIPNetFromString: one CIDR, or two CIDRs of different families.
export function checkSubnets(v: string, kind: 'pod' | 'service'): string | undefined {
  const parts = v.split(',');
  const cidrs = parts.map(parseCidr);
  const bad = parts.find((_, i) => !cidrs[i]);
  if (bad !== undefined) return `"${bad.trim()}" is not a CIDR (e.g. 10.244.0.0/16, or "10.244.0.0/16,fd00:10:244::/56" for dual-stack)`;
  const ok = cidrs as Cidr[];
  if (ok.length > 2 || (ok.length === 2 && ok[0].family === ok[1].family)) return `"${v}": expected one CIDR, or two of different families (IPv4 and IPv6) for dual-stack`;
  if (kind === 'service') {
    const big = ok.find((c) => (c.family === 'ipv4' ? 32 : 128) - c.bits > MAX_SERVICE_HOST_BITS);
    if (big) return `"${big.text}": a service subnet may have at most ${MAX_SERVICE_HOST_BITS} host bits (IPv6: /108 or longer), as kube-apiserver requires`;
  }
  return undefined;
}

export function subnetFamilies(v: string | undefined): Family[] {
  return (v ?? '').split(',').map(parseCidr).filter((c): c is Cidr => Boolean(c)).map((c) => c.family);
}

// nodeIP: auto | interface:NAME | an IP | two IPs of different families (dual-stack).
export function literalNodeIPs(spec: string): string[] {
  const parts = spec.split(',').map((s) => s.trim());
  return parts.every((p) => familyOf(p)) ? parts : [];
}

// The families the cluster gives its nodes, primary first, from its own ranges (service
// range first: kube-apiserver's first service family is the cluster's primary one).
// undefined = not configured: the node takes the family it reaches the API server over.
export function nodeFamilies(agent: Pick<AgentConfig, 'networking'>): Family[] | undefined {
  const out = [...new Set([...subnetFamilies(agent.networking.serviceSubnet), ...subnetFamilies(agent.networking.podSubnet)])];
  return out.length ? out : undefined;
}

// Every family this host routes or talks over: the cluster's, the API server's and a
// literal nodeIP's (kubeadm's preflight wants IPv6 forwarding when the API server is
// IPv6). An endpoint given by name counts through host.hosts only: joinagent does not
// resolve DNS to decide host settings (set networking.* to make a family explicit).
export function familiesInUse(agent: Pick<AgentConfig, 'networking' | 'nodeIP'> & { host: Pick<AgentConfig['host'], 'hosts'> }, join: Pick<JoinDocument, 'apiServerEndpoint'>): Family[] {
  const out: Family[] = [...(nodeFamilies(agent) ?? [])];
  const add = (f: Family | undefined): void => {
    if (f && !out.includes(f)) out.push(f);
  };
  add(endpointFamily(agent, join.apiServerEndpoint));
  literalNodeIPs(agent.nodeIP).forEach((ip) => add(familyOf(ip)));
  if (out.length === 0) add('ipv4');
  return out;
}

function endpointFamily(agent: { host: Pick<AgentConfig['host'], 'hosts'> }, endpoint: string): Family | undefined {
  const host = splitHostPort(endpoint)?.host;
  if (!host) return undefined;
  const direct = familyOf(host);
  if (direct) return direct;
  const entry = agent.host.hosts.find((h) => h.names.includes(host));
  return entry ? familyOf(entry.ip) : undefined;
}

export interface NetworkingProblem {
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

// Cross-field checks between a literal nodeIP and the cluster's families, and mirrors
// given by IPv6 address (containerd 1.x ignores them: see runtime/registry-hosts.ts).
export function networkingProblems(agent: Pick<AgentConfig, 'networking' | 'nodeIP' | 'containerd'>): NetworkingProblem[] {
  const mirrors: NetworkingProblem[] = [];
  for (const [host, list] of Object.entries(agent.containerd.registryMirrors)) {
    // a value that is not a list was reported by the schema and is undefined here
    (Array.isArray(list) ? list : []).forEach((m, i) => {
      if (/^[a-z]+:\/\/\[/i.test(m)) mirrors.push({ path: `containerd.registryMirrors.${host}[${i}]`, message: `"${m}": containerd 1.x cannot read a mirror given by IPv6 address (the run stops there); give it a name in host.hosts and use that, unless this node runs containerd 2.x`, severity: 'warning' });
    });
  }
  return [...mirrors, ...nodeIPProblems(agent)];
}

function nodeIPProblems(agent: Pick<AgentConfig, 'networking' | 'nodeIP'>): NetworkingProblem[] {
  const families = nodeFamilies(agent);
  const ips = literalNodeIPs(agent.nodeIP);
  if (!families || !ips.length) return [];
  const given = ips.map((ip) => familyOf(ip)!);
  const name = (f: Family): string => (f === 'ipv4' ? 'IPv4' : 'IPv6');
  const foreign = given.filter((f) => !families.includes(f));
  if (foreign.length) return [{ path: 'nodeIP', message: `"${agent.nodeIP}" has an ${name(foreign[0])} address, but the cluster (networking) is ${families.map(name).join('/')} only: kubelet would register an address no pod network covers`, severity: 'error' }];
  const missing = families.filter((f) => !given.includes(f));
  if (missing.length) return [{ path: 'nodeIP', message: `"${agent.nodeIP}" has no ${name(missing[0])} address, but the cluster (networking) is dual-stack: the Node will report only ${name(given[0])}; give both ("IPv4,IPv6") or use auto`, severity: 'warning' }];
  if (given[0] !== families[0]) return [{ path: 'nodeIP', message: `"${agent.nodeIP}" lists ${name(given[0])} first, but the cluster's primary family (first in networking.serviceSubnet) is ${name(families[0])}: kubelet takes the first as the Node's primary address`, severity: 'warning' }];
  return [];
}
