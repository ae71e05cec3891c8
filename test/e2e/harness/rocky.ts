import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { withCacheLock } from './cache-lock.js';
import { CONTAINERD2_UPSTREAM, containerdIoFiles } from './containerd-io.js';
import { kubePackages } from './debs.js';
import { KUBE_DEB_VERSION, NEWER_DEB_VERSION } from './aptrepo.js';
import { serveDir, type StaticServer } from './http.js';
import { cachedKey } from './gpgkey.js';
import { cacheDir, repoRoot } from './paths.js';
import { addKubernetesCniRpm, iptablesNftRpm } from './rpm-deps.js';
import { buildRpm, createSignedRepo, kubeRpmFromDeb, signRpms, type RpmSpec } from './rpms.js';
import { sh } from './sh.js';

// A node that behaves as Rocky Linux 10 does for everything joinagent touches, built
// from Debian 12 parts (no Rocky mirror is reachable): Rocky's /etc/os-release, real dnf
// 4 and rpm with an rpm database, dnf-plugins-core, firewalld running, no apt or dpkg on
// PATH. Its repositories are served by the test: BaseOS (the versionlock plugin, as
// python3-dnf-plugin-versionlock, not installed by default), pkgs.k8s.io's layout with
// the stand-in kube rpms, Docker's docker-ce.repo layout with containerd.io 2.1.

// debootstrap does not resolve virtual packages: polkitd (firewalld's) needs a logind, libpam-systemd provides it
export const ROCKY_PACKAGES = ['dnf', 'dnf-plugins-core', 'rpm', 'firewalld', 'netbase', 'iptables', 'libpam-systemd'];
/** Names the cached root: change it whenever rockify() changes what it makes. */
export const ROCKY_LAYOUT = 'rocky-layout-2';
export const KUBE_RPM_RELEASE = '150500.1.1';
export const CONTAINERD_IO_RPM = `${CONTAINERD2_UPSTREAM}-1.el10`;
const PLUGIN_DIR = '/usr/lib/python3/dist-packages/dnf-plugins';
const HIDDEN = '/usr/lib/joinagent-e2e/not-on-rocky';

// What the node's rpm database says is installed: the Debian userland, under Rocky's
// names (rocky-release provides $releasever = 10, as on Rocky). No iptables: a minimal
// Rocky 10 does not have it; kubelet's dependency installs iptables-nft from AppStream.
export const BASE_PROVIDES = [
  'system-release', 'system-release(releasever) = 10', 'redhat-release = 10', 'rocky-release = 10.0',
  '/bin/sh', '/bin/bash', '/usr/bin/sh', 'bash', 'glibc', 'coreutils', 'systemd', 'util-linux', 'iproute',
  'nftables', 'conntrack-tools', 'socat', 'ebtables', 'ethtool', 'libseccomp', 'python3', 'dnf', 'dnf-plugins-core', 'rpm', 'firewalld',
  'curl', 'openssl', 'ca-certificates', 'procps-ng', 'kmod', 'gnupg2', 'tzdata',
];

// Turns a debootstrapped root into the Rocky-like node's root (once, cached).
export async function rockify(root: string): Promise<void> {
  const osr = await fs.readFile(path.join(repoRoot, 'test/fixtures/os-release/rocky-10'), 'utf8');
  await fs.rm(path.join(root, 'etc/os-release'), { force: true });
  await fs.writeFile(path.join(root, 'usr/lib/os-release'), osr);
  await fs.symlink('../usr/lib/os-release', path.join(root, 'etc/os-release'));
  await fs.writeFile(path.join(root, 'etc/redhat-release'), 'Rocky Linux release 10.0 (Red Quartz)\n');
  // no apt, no dpkg: a dnf host
  await fs.mkdir(path.join(root, HIDDEN), { recursive: true });
  for (const b of ['apt', 'apt-get', 'apt-cache', 'apt-mark', 'apt-config', 'apt-key', 'dpkg', 'dpkg-query', 'dpkg-deb', 'dpkg-divert', 'dpkg-split', 'dpkg-trigger', 'dpkg-statoverride', 'dpkg-maintscript-helper', 'dpkg-realpath']) {
    const f = path.join(root, 'usr/bin', b);
    if (existsSync(f)) await fs.rename(f, path.join(root, HIDDEN, b));
  }
  // Rocky installs the versionlock plugin with its own rpm; dnf-plugins-core's `local`
  // plugin does not exist there
  if (existsSync(path.join(root, PLUGIN_DIR, 'versionlock.py'))) await fs.rename(path.join(root, PLUGIN_DIR, 'versionlock.py'), path.join(root, HIDDEN, 'versionlock.py'));
  await fs.rm(path.join(root, PLUGIN_DIR, 'local.py'), { force: true });
  await fs.rm(path.join(root, 'etc/dnf/plugins/versionlock.conf'), { force: true });
  await fs.rm(path.join(root, 'etc/dnf/plugins/versionlock.list'), { force: true });
  await fs.writeFile(path.join(root, 'etc/dnf/dnf.conf'), '[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=True\nskip_if_unavailable=False\n');
  await fs.mkdir(path.join(root, 'etc/yum.repos.d'), { recursive: true });
  await fs.mkdir(path.join(root, 'etc/pki/rpm-gpg'), { recursive: true });
  const work = await fs.mkdtemp('/var/tmp/ja-e2e-rocky-base-');
  try {
    const base = await buildRpm({ name: 'rocky-release', version: '10.0', release: '1.el10', arch: 'noarch', summary: 'Rocky Linux release files (e2e: stands for the Debian userland)', provides: BASE_PROVIDES, files: [] }, work);
    await sh('rpm', ['--root', root, '--initdb']);
    await sh('rpm', ['--root', root, '-i', '--nosignature', base]);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  await sh('systemctl', [`--root=${root}`, 'enable', '--quiet', 'firewalld.service']);
}

export interface RpmRepos extends StaticServer {
  /** baseurl of pkgs.k8s.io's layout: .../core:/stable:/v1.32/rpm/ */
  kubeUrl: string;
  /** Docker's repository root (.../linux/centos): docker-ce.repo adds $releasever/$basearch/stable */
  dockerUrl: string;
  /** Rocky's BaseOS (python3-dnf-plugin-versionlock) */
  baseosUrl: string;
  /** Rocky's AppStream (iptables-nft, kubelet's iptables) */
  appstreamUrl: string;
  /** the public keys on this host: pkgs.k8s.io's layout, Docker's, Rocky's BaseOS (each signs only its own) */
  keys: { kube: string; docker: string; distro: string };
  /** a valid OpenPGP key that signed nothing here, served at /keys/other.asc */
  otherKeyUrl: string;
  dir: string;
  /** Publishes another patch release into the kube repository (signed, metadata rebuilt). */
  publish(debVersion: string): Promise<void>;
  /** Publishes a withheld kubernetes-cni (metadata rebuilt). */
  release(names: string[]): Promise<void>;
}

// Builds and serves the three repositories at http://host:port/.
export async function startRpmRepos(host: string, port = 8082, opts: { withhold?: string[] } = {}): Promise<RpmRepos> {
  const dir = await fs.mkdtemp('/var/tmp/ja-e2e-rpm-repos-');
  const kube = path.join(dir, 'core:/stable:/v1.32/rpm');
  const docker = path.join(dir, 'linux/centos/10/x86_64/stable');
  const baseos = path.join(dir, 'rocky/10/BaseOS/x86_64/os');
  const appstream = path.join(dir, 'rocky/10/AppStream/x86_64/os');
  for (const d of [path.join(kube, 'x86_64'), path.join(docker, 'Packages'), path.join(baseos, 'Packages'), path.join(appstream, 'Packages')]) await fs.mkdir(d, { recursive: true });
  const built: string[] = [];
  for (const v of [KUBE_DEB_VERSION, NEWER_DEB_VERSION]) for (const deb of kubePackages(v)) built.push(await buildRpm(kubeRpmFromDeb(deb), path.join(kube, 'x86_64')));
  await signRpms(built, 'repo');
  // withheld: a mirror that copied only the kube packages (release() publishes it)
  if (!opts.withhold?.includes('kubernetes-cni')) await addKubernetesCniRpm(path.join(kube, 'x86_64'));
  await signRpms([await buildRpm(versionlockRpm(), path.join(baseos, 'Packages')), await buildRpm(iptablesNftRpm('11.el10'), path.join(appstream, 'Packages'))], 'distro');
  await fs.copyFile(await containerdIoRpm(), path.join(docker, 'Packages', `containerd.io-${CONTAINERD_IO_RPM}.x86_64.rpm`));
  await createSignedRepo(kube, 'repo');
  await createSignedRepo(docker, 'docker');
  await createSignedRepo(baseos, 'distro');
  await createSignedRepo(appstream, 'distro');
  const keys = { kube: (await cachedKey('repo')).publicKey, docker: (await cachedKey('docker')).publicKey, distro: (await cachedKey('distro')).publicKey };
  await fs.copyFile(keys.docker, path.join(dir, 'linux/centos/gpg'));
  await fs.mkdir(path.join(dir, 'keys'));
  await fs.copyFile((await cachedKey('other')).publicKey, path.join(dir, 'keys/other.asc'));
  const server = await serveDir(dir, host, port, '/');
  const root = server.url.replace(/\/$/, '');
  const publish = async (v: string): Promise<void> => {
    // only what is new: a package whose version-release is already published stays as it was
    const specs = kubePackages(v).map(kubeRpmFromDeb).filter((r) => !existsSync(path.join(kube, 'x86_64', `${r.name}-${r.version}-${r.release}.${r.arch}.rpm`)));
    const built: string[] = [];
    for (const spec of specs) built.push(await buildRpm(spec, path.join(kube, 'x86_64')));
    await signRpms(built);
    await createSignedRepo(kube);
  };
  const release = async (names: string[]): Promise<void> => {
    if (names.includes('kubernetes-cni')) await addKubernetesCniRpm(path.join(kube, 'x86_64'));
    await createSignedRepo(kube);
  };
  return { ...server, release, kubeUrl: `${root}/core:/stable:/v1.32/rpm/`, dockerUrl: `${root}/linux/centos`, baseosUrl: `${root}/rocky/10/BaseOS/x86_64/os/`, appstreamUrl: `${root}/rocky/10/AppStream/x86_64/os/`, keys, otherKeyUrl: `${root}/keys/other.asc`, dir, publish, close: async () => { await server.close(); await fs.rm(dir, { recursive: true, force: true }); } };
}

// Rocky's python3-dnf-plugin-versionlock: the plugin (dnf-plugins-core's own file, taken
// off the node's plugin path when its root was built), its config and the lock list.
function versionlockRpm(): RpmSpec {
  return {
    name: 'python3-dnf-plugin-versionlock',
    version: '4.3.1',
    release: '1.el10',
    arch: 'noarch',
    summary: 'Version Lock Plugin for DNF',
    requires: ['dnf-plugins-core'],
    files: [
      { path: `${PLUGIN_DIR}/versionlock.py`, src: `${PLUGIN_DIR}/versionlock.py`, mode: 0o644 },
      { path: '/etc/dnf/plugins/versionlock.conf', src: path.join(repoRoot, 'test/e2e/harness/rpm/versionlock.conf'), mode: 0o644, config: true },
      { path: '/etc/dnf/plugins/versionlock.list', src: null, mode: 0o644, config: true },
    ],
  };
}

// Docker's containerd.io rpm with the same real containerd 2.1.9 and runc as the .deb,
// built once into the cache (its payload is ~100 MB) and signed with Docker's key.
export async function containerdIoRpm(): Promise<string> {
  const out = path.join(cacheDir, 'rpms-built', `containerd.io-${CONTAINERD_IO_RPM}.x86_64.docker-key.rpm`);
  if (existsSync(out)) return out;
  const files = await containerdIoFiles();
  return withCacheLock('containerd-io-rpm', async () => {
    if (existsSync(out)) return out;
    await fs.mkdir(path.dirname(out), { recursive: true });
    const work = await fs.mkdtemp(path.join(path.dirname(out), '.build-'));
    try {
      const rpm = await buildRpm({
        name: 'containerd.io',
        version: CONTAINERD2_UPSTREAM,
        release: '1.el10',
        arch: 'x86_64',
        summary: 'An industry-standard container runtime (e2e: real containerd 2.1.9 and runc)',
        provides: ['containerd', 'runc'],
        obsoletes: ['containerd', 'runc'],
        files: files.map(([p, src, mode]) => ({ path: p.replace('/lib/systemd/system/', '/usr/lib/systemd/system/'), src, mode, config: p.startsWith('/etc/') })),
      }, work);
      await signRpms([rpm], 'docker');
      await fs.rename(rpm, out);
      return out;
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });
}
