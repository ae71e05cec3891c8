import { randomBytes } from 'node:crypto';

export interface ScenarioConfig {
  /** the control plane's address on the node's link (IPv6 without brackets) */
  host: string;
  repoUrl: string;
  /** where the repository key is inside the node (none: a local directory repository) */
  repoKeyPath?: string;
  registry: string;
  /** the control plane's CA pin; required unless unsafeSkipCAVerification is asked for */
  caCertHash?: string;
  /** only for worlds without a control plane: the harness never turns verification off by itself */
  unsafeSkipCAVerification?: true;
  /** inline in the JoinConfiguration, or read from join.tokenFile */
  token: string;
  tokenFile?: string;
  version?: string;
  /** Docker's containerd.io from this repository (README default), else the distribution's containerd. */
  docker?: { url: string; keyPath: string };
  firewall?: 'disable' | 'open-ports' | 'leave';
  /** More AgentConfiguration YAML (proxy:, registries:), appended to that document. */
  extra?: string;
  /** images.repository (default registry.k8s.io, served by the mirror) */
  imageRepository?: string;
  /** images.archives */
  imageArchives?: string;
}

// A bootstrap token of kubeadm's shape ([a-z0-9]{6}.[a-z0-9]{16}), fresh per scenario.
export function newToken(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
  return `${pick(6)}.${pick(16)}`;
}

// The agent config every scenario hands the node: the runbook's choices, pointed at the
// harness's repository, registry mirror and control plane on the link.
export function renderConfig(c: ScenarioConfig): string {
  // a missing pin is a harness bug (e.g. the fixture renamed its key), not a reason to
  // join without verifying the control plane
  if (!c.caCertHash && !c.unsafeSkipCAVerification) throw new Error('renderConfig: no caCertHash (the control plane\'s CA pin) and unsafeSkipCAVerification not asked for: the harness never turns CA verification off silently');
  // containerd 1.x cannot read a hosts.toml mirror written as an IPv6 address (the agent
  // refuses it): an IPv6 registry is named in host.hosts, as an operator would
  const v6 = /^\[(.+)\]:(\d+)$/.exec(c.registry);
  const mirror = v6 ? { name: 'registry-mirror', ip: v6[1], port: v6[2] } : { name: undefined, ip: '', port: '' };
  const discovery = [
    ...(c.tokenFile ? [] : [`    token: "${c.token}"`]),
    `    apiServerEndpoint: "${c.host.includes(':') ? `[${c.host}]` : c.host}:6443"`,
    ...(c.caCertHash ? [`    caCertHashes: ["${c.caCertHash}"]`] : ['    unsafeSkipCAVerification: true  # no control plane in this world']),
  ];
  return [
    'apiVersion: joinagent.io/v1alpha1',
    'kind: AgentConfiguration',
    `kubernetesVersion: ${c.version ?? 'v1.32.11'}`,
    'host:',
    '  timezone: Etc/UTC',
    `  firewall: ${c.firewall ?? 'disable'}`,
    '  swap: disable',
    '  hosts:',
    `    - { ip: ${c.host}, names: [k8s-ctr] }`,
    ...(mirror.name ? [`    - { ip: ${mirror.ip}, names: [${mirror.name}] }`] : []),
    'containerd:',
    `  source: ${c.docker ? 'docker' : 'distro'}`,
    '  registryMirrors:',
    `    registry.k8s.io: ["http://${mirror.name ? `${mirror.name}:${mirror.port}` : c.registry}"]`,
    'repositories:',
    `  kubernetes: { url: "${c.repoUrl}"${c.repoKeyPath ? `, key: "${c.repoKeyPath}"` : ''} }`,
    ...(c.docker ? [`  docker: { url: "${c.docker.url}", key: "${c.docker.keyPath}" }`] : []),
    `images: { repository: ${c.imageRepository ?? 'registry.k8s.io'}${c.imageArchives ? `, archives: ${c.imageArchives}` : ''} }`,
    'nodeIP: auto',
    ...(c.tokenFile ? ['join:', `  tokenFile: ${c.tokenFile}`] : []),
    'status: { address: 127.0.0.1:9797 }',
    ...(c.extra ? [c.extra.replace(/\n$/, '')] : []),
    '---',
    'apiVersion: kubeadm.k8s.io/v1beta4',
    'kind: JoinConfiguration',
    'discovery:',
    '  bootstrapToken:',
    ...discovery,
    'nodeRegistration:',
    '  criSocket: "unix:///run/containerd/containerd.sock"',
    '',
  ].join('\n');
}
