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
  return keys.filter((key) => {
    const ns = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
    if (!within(ns, 'kubernetes.io') && !within(ns, 'k8s.io')) return false;
    return !KUBELET_LABELS.has(key) && !KUBELET_NAMESPACES.some((a) => within(ns, a));
  });
}

export const NODE_LABEL_HINT = `labels in the kubernetes.io and k8s.io namespaces must begin with kubelet.kubernetes.io/ or node.kubernetes.io/ or be one of ${[...KUBELET_LABELS].join(', ')}: drop them from node-labels and set them after the join with \`kubectl label node NAME KEY=VALUE\` (e.g. node-role.kubernetes.io/worker=)`;
