import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { CONTAINERD2_UPSTREAM } from './containerd-io.js';
import { kubePackages, type DebSpec } from './debs.js';
import { cachedKey } from './gpgkey.js';
import { serveDir, type StaticServer } from './http.js';
import { repoRoot } from './paths.js';
import { containerdIoRpm } from './rocky.js';
import { addKubernetesCniRpm } from './rpm-deps.js';
import { buildRpm, createSignedRepo, kubeRpmFromDeb, signRpms, type RpmSpec } from './rpms.js';
import { sh } from './sh.js';

// A node that behaves as Fedora 41+ does for what joinagent touches: dnf5 is /usr/bin/dnf
// (dnf 4 stays as dnf4), rpm 6 with its database, no apt. dnf5 needs glibc >= 2.38, so its
// userland is Debian sid's (dnf5 5.4, rpm 6.1, dnf 4.24), booted like every node. Its
// repositories are the test's: pkgs.k8s.io's layout for v1.35, built as kubernetes/release
// builds packages now (kubelet only recommends iptables, kubernetes/release#4518),
// Docker's fedora layout with containerd.io 2.1, and the distribution's own repository
// with iptables-nft (what that recommendation would pull in) and dnf 4's versionlock plugin.

export const FEDORA_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'iproute2', 'procps', 'kmod', 'ca-certificates', 'tzdata', 'dnf5', 'rpm', 'dnf', 'dnf-plugins-core'];
/** Names the cached root: change it whenever fedorify() changes what it makes. */
export const FEDORA_LAYOUT = 'fedora-layout-1';
export const FEDORA_KUBE_MINOR = '1.35';
/** Debian-style versions of the stand-ins (kubePackages); the rpms are 1.35.2-150500.1.1 ... */
export const FEDORA_KUBE_VERSIONS = ['1.35.2-1.1', '1.35.3-1.1'];
const PLUGIN_DIR = '/usr/lib/python3/dist-packages/dnf-plugins';
const HIDDEN = '/usr/lib/joinagent-e2e/not-on-fedora';

// What the rpm database says is installed: the sid userland under Fedora's names. No
// iptables: a minimal Fedora (or RHEL 10) does not have it.
const BASE_PROVIDES = [
  'system-release', 'system-release(releasever) = 41', 'fedora-release = 41', 'fedora-release-common = 41',
  '/bin/sh', '/bin/bash', '/usr/bin/sh', 'bash', 'glibc', 'coreutils', 'systemd', 'util-linux', 'iproute', 'nftables', 'conntrack-tools', 'socat',
  'ethtool', 'libseccomp', 'python3', 'dnf5', 'dnf', 'dnf-plugins-core', 'rpm', 'curl', 'openssl', 'ca-certificates', 'procps-ng', 'kmod', 'gnupg2', 'tzdata',
];

// Turns a debootstrapped sid root into the Fedora-like node's root (once, cached).
export async function fedorify(root: string): Promise<void> {
  const osr = await fs.readFile(path.join(repoRoot, 'test/fixtures/os-release/fedora-41'), 'utf8');
  await fs.rm(path.join(root, 'etc/os-release'), { force: true });
  await fs.writeFile(path.join(root, 'usr/lib/os-release'), osr);
  await fs.symlink('../usr/lib/os-release', path.join(root, 'etc/os-release'));
  await fs.writeFile(path.join(root, 'etc/fedora-release'), 'Fedora release 41 (Forty One)\n');
  for (const l of ['redhat-release', 'system-release']) await fs.symlink('fedora-release', path.join(root, 'etc', l));
  await fs.mkdir(path.join(root, HIDDEN), { recursive: true });
  for (const b of ['apt', 'apt-get', 'apt-cache', 'apt-mark', 'apt-config', 'dpkg', 'dpkg-query', 'dpkg-deb', 'dpkg-divert', 'dpkg-split', 'dpkg-trigger', 'dpkg-statoverride', 'dpkg-maintscript-helper', 'dpkg-realpath']) {
    const f = path.join(root, 'usr/bin', b);
    if (existsSync(f)) await fs.rename(f, path.join(root, HIDDEN, b));
  }
  // Fedora 41+: dnf is dnf5; dnf 4 is still there as dnf4
  await fs.rm(path.join(root, 'usr/bin/dnf'), { force: true });
  await fs.symlink('dnf5', path.join(root, 'usr/bin/dnf'));
  await fs.symlink('dnf-3', path.join(root, 'usr/bin/dnf4'));
  // plugins Fedora does not install by default: dnf5's and dnf 4's `local` (it rebuilds a
  // repository with createrepo_c after every transaction), dnf 4's system-upgrade; dnf 4's
  // versionlock comes with its own rpm (python3-dnf-plugin-versionlock, served by the test)
  await fs.rm(path.join(root, 'etc/dnf/libdnf5-plugins/local.conf'), { force: true });
  for (const f of ['local.py', 'system_upgrade.py']) await fs.rm(path.join(root, PLUGIN_DIR, f), { force: true });
  await fs.rename(path.join(root, PLUGIN_DIR, 'versionlock.py'), path.join(root, HIDDEN, 'versionlock.py'));
  for (const f of ['etc/dnf/plugins/versionlock.conf', 'etc/dnf/plugins/versionlock.list']) await fs.rm(path.join(root, f), { force: true });
  // Fedora's dnf.conf: everything at dnf's defaults (Debian's sets skip_if_unavailable=True)
  await fs.writeFile(path.join(root, 'etc/dnf/dnf.conf'), '# see `man dnf.conf` for defaults and possible options\n\n[main]\n');
  await fs.mkdir(path.join(root, 'etc/yum.repos.d'), { recursive: true });
  await fs.mkdir(path.join(root, 'etc/pki/rpm-gpg'), { recursive: true });
  // the node's own rpm 6 makes its database
  const base = await buildRpm({ name: 'fedora-release', version: '41', release: '1', arch: 'noarch', summary: 'Fedora release files (e2e: stands for the Debian sid userland)', provides: BASE_PROVIDES, files: [] }, path.join(root, 'tmp'));
  await sh('chroot', [root, 'rpm', '--initdb']);
  await sh('chroot', [root, 'rpm', '-i', '--nosignature', `/tmp/${path.basename(base)}`]);
  await fs.rm(base);
}

export interface FedoraRepos extends StaticServer {
  /** baseurl of pkgs.k8s.io's layout: .../core:/stable:/v1.35/rpm/ */
  kubeUrl: string;
  /** Docker's repository root (.../linux/fedora) */
  dockerUrl: string;
  /** the distribution's repository, as a baseurl with $releasever and $basearch */
  fedoraUrl: string;
  keys: { kube: string; docker: string; distro: string };
  otherKeyUrl: string;
  /** Publishes another patch release into the kube repository (signed, metadata rebuilt). */
  publish(debVersion: string): Promise<void>;
}

// Builds and serves the three repositories at http://host:port/.
export async function startFedoraRepos(host: string, root: string, port = 8082): Promise<FedoraRepos> {
  const dir = await fs.mkdtemp('/var/tmp/ja-e2e-fedora-repos-');
  const kube = path.join(dir, `core:/stable:/v${FEDORA_KUBE_MINOR}/rpm`);
  const docker = path.join(dir, 'linux/fedora/41/x86_64/stable');
  const fedora = path.join(dir, 'fedora/releases/41/Everything/x86_64/os');
  for (const d of [path.join(kube, 'x86_64'), path.join(docker, 'Packages'), path.join(fedora, 'Packages')]) await fs.mkdir(d, { recursive: true });
  const publish = async (v: string): Promise<void> => {
    const specs = kubePackages(v).map(currentBuild).filter((r) => !existsSync(path.join(kube, 'x86_64', `${r.name}-${r.version}-${r.release}.${r.arch}.rpm`)));
    const built: string[] = [];
    for (const spec of specs) built.push(await buildRpm(spec, path.join(kube, 'x86_64')));
    await signRpms(built, 'repo');
    await createSignedRepo(kube, 'repo');
  };
  await addKubernetesCniRpm(path.join(kube, 'x86_64'));
  for (const v of FEDORA_KUBE_VERSIONS) await publish(v);
  const distro = [await buildRpm(iptablesNft(), path.join(fedora, 'Packages')), await buildRpm(await versionlockRpm(root), path.join(fedora, 'Packages'))];
  await signRpms(distro, 'distro');
  // the same containerd.io rpm as the Rocky world's (its release says el10; nothing reads it)
  const cio = await containerdIoRpm();
  const served = path.join(docker, 'Packages', `containerd.io-${CONTAINERD2_UPSTREAM}-1.el10.x86_64.rpm`);
  await fs.link(cio, served).catch(() => fs.copyFile(cio, served));
  await createSignedRepo(docker, 'docker');
  await createSignedRepo(fedora, 'distro');
  const keys = { kube: (await cachedKey('repo')).publicKey, docker: (await cachedKey('docker')).publicKey, distro: (await cachedKey('distro')).publicKey };
  await fs.copyFile(keys.docker, path.join(dir, 'linux/fedora/gpg'));
  await fs.mkdir(path.join(dir, 'keys'));
  await fs.copyFile((await cachedKey('other')).publicKey, path.join(dir, 'keys/other.asc'));
  const server = await serveDir(dir, host, port, '/');
  const url = server.url.replace(/\/$/, '');
  return {
    ...server,
    kubeUrl: `${url}/core:/stable:/v${FEDORA_KUBE_MINOR}/rpm/`,
    dockerUrl: `${url}/linux/fedora`,
    fedoraUrl: `${url}/fedora/releases/$releasever/Everything/$basearch/os/`,
    keys,
    otherKeyUrl: `${url}/keys/other.asc`,
    publish,
    close: async () => {
      await server.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

// pkgs.k8s.io's packages as kubernetes/release builds them today (cmd/krel/templates/
// latest/kubelet/kubelet.spec since #4518): kubelet recommends iptables >= 1.8.4 instead
// of requiring it; cri-tools carries the minor's own version.
function currentBuild(deb: DebSpec): RpmSpec {
  const rpm = kubeRpmFromDeb(deb.name === 'cri-tools' ? { ...deb, version: `${FEDORA_KUBE_MINOR}.0-1.1` } : deb);
  if (rpm.name !== 'kubelet') return rpm;
  return { ...rpm, requires: (rpm.requires ?? []).filter((r) => !/^iptables\b/.test(r)), recommends: ['iptables >= 1.8.4'] };
}

// Fedora's iptables-nft (it provides iptables): no files, it only has to be what a weak
// dependency on iptables would install.
function iptablesNft(): RpmSpec {
  return { name: 'iptables-nft', version: '1.8.11', release: '1.fc41', arch: 'x86_64', summary: 'nftables compatibility for iptables (e2e: dependency target only)', provides: ['iptables = 1.8.11'], files: [] };
}

// Fedora's python3-dnf-plugin-versionlock for dnf 4: the node's own plugin file (dnf-plugins-core
// from sid, taken off the plugin path when its root was built).
async function versionlockRpm(root: string): Promise<RpmSpec> {
  const conf = path.join(repoRoot, 'test/e2e/harness/rpm/versionlock.conf');
  return {
    name: 'python3-dnf-plugin-versionlock',
    version: '4.10.1',
    release: '1.fc41',
    arch: 'noarch',
    summary: 'Version Lock Plugin for DNF',
    requires: ['dnf-plugins-core'],
    files: [
      { path: `${PLUGIN_DIR}/versionlock.py`, src: path.join(root, HIDDEN, 'versionlock.py'), mode: 0o644 },
      { path: '/etc/dnf/plugins/versionlock.conf', src: conf, mode: 0o644, config: true },
      { path: '/etc/dnf/plugins/versionlock.list', src: null, mode: 0o644, config: true },
    ],
  };
}
