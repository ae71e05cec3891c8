import { localRepoDir } from '../../../config/formats.js';
import type { LoadedConfig } from '../../../config/types.js';
import type { HostFacts } from '../../../host/facts.js';
import { kubeVersion } from './wanted.js';

export interface OsInfo {
  id: string;
  /** VERSION_CODENAME (Debian, Ubuntu): the Docker deb repository's suite. */
  codename?: string;
}

export interface RepoKey {
  /** Where the (ASCII-armored) key is kept on the host. */
  path: string;
  /** An http(s) URL, or an absolute path on the host. */
  source: string;
  /** repositories.*.keyFingerprints: the only primary keys the keyring may hold. */
  fingerprints?: string[];
}

export interface RepoPlan {
  files: { path: string; content: string }[];
  keys: RepoKey[];
}

export const APT_KEYRINGS = '/etc/apt/keyrings';
export const RPM_KEYS = '/etc/pki/rpm-gpg';

// pkgs.k8s.io has one repository per minor version; repositories.kubernetes.url replaces
// it for mirrors (same flat layout: `deb URL /`, rpm baseurl=URL). A mirror URL that names
// a minor the way pkgs.k8s.io does (".../core:/stable:/v1.32/deb/") follows
// kubernetesVersion's minor, so a minor upgrade switches the mirror's repository too.
export function kubernetesRepoUrl(config: LoadedConfig, family: 'rhel' | 'debian'): string {
  const over = config.agent.repositories.kubernetes?.url;
  const local = localRepoDir(over);
  if (local) return `file://${local}`;
  if (over) return followMinor(over.endsWith('/') ? over : over + '/', kubeVersion(config).minor);
  return `https://pkgs.k8s.io/core:/stable:/v${kubeVersion(config).minor}/${family === 'debian' ? 'deb' : 'rpm'}/`;
}

// "/v1.32/" in a mirror URL -> the wanted minor's segment.
export function followMinor(url: string, minor: string): string {
  return url.replace(/\/v\d+\.\d+\//, `/v${minor}/`);
}

// Docker's repository root for this distribution (download.docker.com/linux/<distro>).
export function dockerRepoUrl(config: LoadedConfig, os: OsInfo): string {
  const over = config.agent.repositories.docker?.url;
  const local = localRepoDir(over);
  if (local) return `file://${local.replace(/\/$/, '')}`;
  if (over) return over.replace(/\/$/, '');
  const distro = os.id === 'ubuntu' ? 'ubuntu' : os.id === 'debian' ? 'debian' : os.id === 'fedora' ? 'fedora' : 'centos';
  return `https://download.docker.com/linux/${distro}`;
}

const DEB_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64el', s390x: 's390x' };

// The repository files and keys the wanted packages come from. The rpm files are the
// ones upstream documents: pkgs.k8s.io's kubernetes.repo (kubernetes/website, "Changing
// the Kubernetes package repository") and Docker's docker-ce.repo set gpgcheck=1 and a
// gpgkey, and no repo_gpgcheck, so neither do we (a dnf.conf that turns it on still works:
// both sign repomd.xml, and dnf.ts answers the key import). The exclude= line keeps a
// plain `dnf upgrade` off the kube packages; the hold itself is a versionlock (dnf.ts).
export function repositoryPlan(config: LoadedConfig, facts: Pick<HostFacts, 'family' | 'arch'>, os: OsInfo): RepoPlan {
  const family = facts.family ?? 'debian';
  const repos = config.agent.repositories;
  const kubeUrl = kubernetesRepoUrl(config, family);
  // a local directory (an unpacked joinagent bundle) carries containerd.io too: no
  // Docker repository unless one is configured
  const kubeLocal = localRepoDir(repos.kubernetes?.url) !== undefined;
  const docker = config.agent.containerd.source === 'docker' && !(kubeLocal && !repos.docker?.url);
  const dockerUrl = dockerRepoUrl(config, os);
  const keyDir = family === 'debian' ? APT_KEYRINGS : RPM_KEYS;
  for (const u of [kubeUrl, dockerUrl]) noControl(u);
  const pins = (id: 'kubernetes' | 'docker'): Pick<RepoKey, 'fingerprints'> => (repos[id]?.keyFingerprints ? { fingerprints: repos[id]!.keyFingerprints } : {});
  // a local repository without a key is trusted as it is: joinagent checks the bundle's
  // SHA256SUMS before installing from it (the bundle file itself is checked by its sha256)
  const kubeKey: RepoKey | undefined = kubeLocal && !repos.kubernetes?.key ? undefined : { path: `${keyDir}/kubernetes.asc`, source: repos.kubernetes?.key ?? (family === 'debian' ? `${kubeUrl}Release.key` : `${kubeUrl}repodata/repomd.xml.key`), ...pins('kubernetes') };
  const dockerKey: RepoKey | undefined = localRepoDir(repos.docker?.url) && !repos.docker?.key ? undefined : { path: `${keyDir}/docker.asc`, source: repos.docker?.key ?? `${dockerUrl}/gpg`, ...pins('docker') };
  // while an upgrade is under way its step owns the Kubernetes repository (upgrade/)
  const kube = !config.agent.upgrading;
  const plan: RepoPlan = { files: [], keys: [...(kubeKey && kube ? [kubeKey] : []), ...(docker && dockerKey ? [dockerKey] : [])] };
  const { minor } = kubeVersion(config);
  const aptTrust = (k: RepoKey | undefined): string => (k ? `signed-by=${k.path}` : 'trusted=yes');
  const rpmTrust = (k: RepoKey | undefined): string[] => (k ? ['gpgcheck=1', `gpgkey=file://${k.path}`] : ['gpgcheck=0']);
  if (family === 'debian') {
    if (kube) plan.files.push({ path: '/etc/apt/sources.list.d/kubernetes.list', content: `# joinagent: Kubernetes v${minor} packages\ndeb [${aptTrust(kubeKey)}] ${kubeUrl.replace(/^file:\/\//, 'file:')} /\n` });
    if (docker) {
      const arch = DEB_ARCH[facts.arch] ?? facts.arch;
      plan.files.push({ path: '/etc/apt/sources.list.d/docker.list', content: `# joinagent: containerd.io from Docker\ndeb [arch=${arch} ${aptTrust(dockerKey)}] ${dockerUrl.replace(/^file:\/\//, 'file:')} ${os.codename ?? 'stable'} stable\n` });
    }
    return plan;
  }
  if (kube) plan.files.push({
    path: '/etc/yum.repos.d/kubernetes.repo',
    content: ['# joinagent: Kubernetes packages (pkgs.k8s.io\'s repo file; held by versionlock)', '[kubernetes]', `name=Kubernetes v${minor}`, `baseurl=${kubeUrl}`, 'enabled=1', ...rpmTrust(kubeKey), 'exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni', ''].join('\n'),
  });
  if (docker) {
    plan.files.push({
      path: '/etc/yum.repos.d/docker-ce.repo',
      content: ['# joinagent: containerd.io from Docker', '[docker-ce-stable]', 'name=Docker CE Stable - $basearch', `baseurl=${dockerUrl}/$releasever/$basearch/stable`, 'enabled=1', ...rpmTrust(dockerKey), ''].join('\n'),
    });
  }
  return plan;
}

// A URL goes into a line-oriented repository file: a line break would add a repository
// of its own (the loader refuses them; this is the last line of defence).
function noControl(url: string): void {
  if ([...url].some((c) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f)) throw new Error(`repository URL ${JSON.stringify(url)} contains a control character or a space`);
}

// ASCII armor for a binary OpenPGP key, so every keyring we keep is one format: apt
// reads `.asc` files in signed-by= without gpg, and rpm imports armored keys.
export function armorKey(key: Buffer): string {
  const text = key.toString('latin1');
  if (text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) return key.toString('utf8').replace(/\r\n/g, '\n').replace(/\n*$/, '\n');
  const b64 = key.toString('base64').replace(/.{1,64}/g, '$&\n');
  const c = crc24(key);
  const crc = Buffer.from([(c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff]).toString('base64');
  return `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${b64}=${crc}\n-----END PGP PUBLIC KEY BLOCK-----\n`;
}

// RFC 4880 6.1 checksum of the armored data.
function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}
