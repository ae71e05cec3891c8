// The kubelet refuses to start (cmd/kubelet/app/options: "unknown 'kubernetes.io' or
// 'k8s.io' labels specified with --node-labels") when a --node-labels key is in the
// kubernetes.io or k8s.io namespace (or a subdomain of either) and is not a label a
// kubelet may set on its own Node (k8s.io/kubelet well_known_labels IsKubeletLabel): the
// fixed set below, or the kubelet.kubernetes.io / node.kubernetes.io namespaces. So
// node-role.kubernetes.io/worker and node-restriction.kubernetes.io/* are refused: an
// administrator sets them with kubectl after the join.
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
]);
const KUBELET_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const within = (ns: string, domain: string): boolean => ns === domain || ns.endsWith(`.${domain}`);

// Pure: the keys of a --node-labels value ("a=b,c=d") the kubelet would refuse.
export function refusedNodeLabels(nodeLabels: string): string[] {
  const keys = nodeLabels.split(',').map((kv) => kv.split('=')[0].trim()).filter(Boolean);
  return keys.filter(isRefusedKey);
}

function isRefusedKey(key: string): boolean {
  const ns = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
  if (!within(ns, 'kubernetes.io') && !within(ns, 'k8s.io')) return false;
  return !KUBELET_LABELS.has(key) && !KUBELET_NAMESPACES.some((a) => within(ns, a));
}

// apimachinery's IsQualifiedName / IsValidLabelValue: [prefix/]name, name and value at
// most 63 characters of alphanumerics, '-', '_', '.' starting and ending alphanumeric;
// the prefix a DNS-1123 subdomain.
const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function keyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return `label key "${key}" has more than one "/"`;
  const name = parts.at(-1)!;
  const prefix = parts.length === 2 ? parts[0] : undefined;
  if (prefix !== undefined && (prefix.length > 253 || !SUBDOMAIN_RE.test(prefix))) return `label key "${key}": the prefix "${prefix}" is not a DNS subdomain (lower-case, e.g. example.com)`;
  if (name.length > 63 || !NAME_RE.test(name)) return `label key "${key}": the name "${name}" must be 1-63 characters of letters, digits, '-', '_', '.', starting and ending with a letter or digit`;
  return undefined;
}

// Pure: every reason the kubelet would refuse this --node-labels value, one message each,
// in the order of the value: a pair without "=" (cliflag's MapStringString: "malformed
// pair, expect string=string"), a key or value apimachinery rejects, a key in a namespace
// the kubelet may not set. Empty: the kubelet starts with these labels.
export function nodeLabelProblems(nodeLabels: string): string[] {
  const out: string[] = [];
  for (const pair of nodeLabels.split(',')) {
    // cliflag skips an empty pair ("a=b,,c=d", a trailing comma), not a blank one
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) {
      out.push(`"${pair.trim()}" is not key=value (the kubelet: "malformed pair, expect string=string")`);
      continue;
    }
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const bad = keyProblem(key);
    if (bad) out.push(bad);
    else if (isRefusedKey(key)) out.push(`label "${key}" is one a kubelet may not set on its own Node (it refuses to start: "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels"; it may set only kubelet.kubernetes.io/*, node.kubernetes.io/* and the well-known hostname, os, arch, instance-type and topology labels): drop it here and set it after the join with \`kubectl label node NAME ${key}=${value}\``);
    if (value !== '' && (value.length > 63 || !NAME_RE.test(value))) out.push(`label "${key}": the value "${value}" must be empty or 1-63 characters of letters, digits, '-', '_', '.', starting and ending with a letter or digit`);
  }
  return out;
}
