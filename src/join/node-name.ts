// A Node's name is a DNS-1123 subdomain (apimachinery IsDNS1123Subdomain: lower-case
// letters, digits, '-' and '.', each label starting and ending alphanumeric, at most 253
// characters); kubeadm refuses anything else in nodeRegistration.name. The kubelet and
// kubeadm take the host name lower-cased when no name is given (nodeutil.GetHostname),
// so "Worker-1" becomes "worker-1" but "worker_1" cannot be a Node at all.
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

export interface NodeNameVerdict {
  name: string;
  error?: string;
  warning?: string;
  hint?: string;
}

// Pure: the name kubelet will register under, and whether Kubernetes accepts it.
export function nodeNameVerdict(configured: string | undefined, hostname: string): NodeNameVerdict {
  const name = configured ?? hostname.toLowerCase();
  const source = configured !== undefined ? 'nodeRegistration.name' : `the host name "${hostname}"`;
  const hint = configured !== undefined ? 'fix nodeRegistration.name in the JoinConfiguration' : `set nodeRegistration.name in the JoinConfiguration, or rename the host: \`hostnamectl set-hostname ${suggest(hostname)}\``;
  if (name.length === 0) return { name, error: `the node name from ${source} is empty`, hint };
  if (name.length > 253) return { name, error: `node name "${name.slice(0, 40)}..." (from ${source}) is ${name.length} characters: Kubernetes allows at most 253`, hint };
  if (!SUBDOMAIN.test(name)) {
    return { name, error: `node name "${name}" (from ${source}) is not a valid Kubernetes node name: lower-case letters, digits, '-' and '.' only, each part starting and ending with a letter or digit (RFC 1123)`, hint };
  }
  if (configured === undefined && hostname !== name) return { name, warning: `the host name "${hostname}" has upper-case letters: the Node will be "${name}"`, hint: `rename the host to match (\`hostnamectl set-hostname ${name}\`) so logs and the Node agree` };
  return { name };
}

function suggest(hostname: string): string {
  const s = hostname.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return s || 'worker-1';
}
