import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { withCacheLock } from './cache-lock.js';
import { buildDeb, distroDebs, type DebSpec } from './debs.js';
import { cacheDir } from './paths.js';
import { sh } from './sh.js';

// What the stand-in kube packages depend on, as the field has it: the kubelet .deb of
// pkgs.k8s.io v1.32 depends on iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0), mount and
// util-linux (kubernetes/release cmd/krel/templates/latest/kubelet/kubelet.spec and
// metadata.yaml). mount and util-linux are Essential on Debian; iptables and its
// libraries come from the distribution's mirror, kubernetes-cni from pkgs.k8s.io.
// Both are served here: the real Debian 12 packages (downloaded once with the host's apt,
// cached) in a Debian-layout repository, and a kubernetes-cni built from the real CNI
// plugins of Debian's containernetworking-plugins.

/** pkgs.k8s.io's kubernetes-cni in the v1.32 repository (CNI plugins v1.6.0). The stand-in
 *  carries Debian 12's plugin binaries (containernetworking-plugins 1.1.1): the name,
 *  version, layout and dependency edges are upstream's, the binaries are Debian's. */
export const KUBERNETES_CNI_DEB_VERSION = '1.6.0-1.1';
export const DISTRO_SUITE = 'bookworm';

/** iptables and every library it depends on (Debian 12): what the distribution mirror
 *  serves for kubelet's `iptables` dependency on a minbase node. */
export const DISTRO_DEPS = ['iptables', 'libip4tc2', 'libip6tc2', 'libxtables12', 'libnfnetlink0', 'libnetfilter-conntrack3', 'libnftnl11', 'libmnl0', 'netbase'];

const CNI_SOURCE = 'containernetworking-plugins';

// kubernetes-cni as kubernetes/release packages it (cmd/krel/templates/latest/
// kubernetes-cni/kubernetes-cni.spec): the plugins in /opt/cni/bin, an empty
// /etc/cni/net.d kept by .kubernetes-cni-keep, no dependencies.
export async function kubernetesCniSpec(): Promise<DebSpec> {
  const dir = await cniPlugins();
  const files: DebSpec['files'] = { '/etc/cni/net.d/.kubernetes-cni-keep': [path.join(dir, '.kubernetes-cni-keep'), 0o644] };
  for (const f of (await fs.readdir(path.join(dir, 'usr/lib/cni'))).sort()) files[`/opt/cni/bin/${f}`] = [path.join(dir, 'usr/lib/cni', f), 0o755];
  return { name: 'kubernetes-cni', version: KUBERNETES_CNI_DEB_VERSION, description: 'Binaries required to provision kubernetes container networking (e2e: Debian\'s containernetworking-plugins binaries)', files };
}

// The kubernetes-cni .deb, built once into the cache (~40 MB of Go binaries to compress).
export async function kubernetesCniDeb(): Promise<string> {
  const out = path.join(cacheDir, 'debs-built', `kubernetes-cni_${KUBERNETES_CNI_DEB_VERSION}_amd64.deb`);
  if (existsSync(out)) return out;
  const spec = await kubernetesCniSpec();
  return withCacheLock('kubernetes-cni-deb', async () => {
    if (existsSync(out)) return out;
    await fs.mkdir(path.dirname(out), { recursive: true });
    const work = await fs.mkdtemp(path.join(path.dirname(out), '.build-'));
    try {
      await fs.rename(await buildDeb(spec, work), out);
      return out;
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });
}

// Debian's containernetworking-plugins unpacked once into the cache (its plugins live in
// /usr/lib/cni there).
async function cniPlugins(): Promise<string> {
  const dir = path.join(cacheDir, 'cni-plugins');
  if (existsSync(path.join(dir, '.complete'))) return dir;
  const [deb] = await distroDebs([CNI_SOURCE]);
  return withCacheLock('cni-plugins', async () => {
    if (existsSync(path.join(dir, '.complete'))) return dir;
    await fs.rm(dir, { recursive: true, force: true });
    await sh('dpkg-deb', ['-x', deb, dir]);
    await fs.writeFile(path.join(dir, '.kubernetes-cni-keep'), '');
    await fs.writeFile(path.join(dir, '.complete'), `${path.basename(deb)}\n`);
    return dir;
  });
}

// The pool of a Debian-layout repository at dir: the real Debian 12 packages kubelet's
// dependencies resolve to.
export async function fillDistroPool(dir: string): Promise<string> {
  const pool = path.join(dir, 'pool/main');
  await fs.mkdir(pool, { recursive: true });
  for (const deb of await distroDebs(DISTRO_DEPS)) await fs.copyFile(deb, path.join(pool, path.basename(deb)));
  return pool;
}

// Its index (`deb URL bookworm main`), signed by `sign` (the caller's Release signer).
export async function indexDistroRepo(dir: string, sign: (dist: string, files: string[]) => Promise<void>): Promise<void> {
  const dist = path.join(dir, 'dists', DISTRO_SUITE);
  await fs.mkdir(path.join(dist, 'main/binary-amd64'), { recursive: true });
  const packages = (await sh('dpkg-scanpackages', ['--multiversion', 'pool', '/dev/null'], { cwd: dir })).stdout;
  await fs.writeFile(path.join(dist, 'main/binary-amd64/Packages'), packages);
  await fs.writeFile(path.join(dist, 'main/binary-amd64/Packages.gz'), gzipSync(packages));
  await sign(dist, ['main/binary-amd64/Packages', 'main/binary-amd64/Packages.gz']);
}

/** Where a node keeps the test distribution's archive key (Debian's own is in /usr/share/keyrings). */
export const DISTRO_KEY_IN_NODE = '/etc/apt/keyrings/debian-e2e-archive.asc';

// The node's distribution source as Debian 12 writes it (deb822 debian.sources), pointing
// at the test's mirror; its package lists start empty, as on a fresh cloud image.
export function distroSources(url: string): string {
  return ['Types: deb', `URIs: ${url}`, `Suites: ${DISTRO_SUITE}`, 'Components: main', `Signed-By: ${DISTRO_KEY_IN_NODE}`, ''].join('\n');
}

// Gives a node's root its distribution source and key (the node's lists stay empty).
export async function addDistroSource(root: string, repo: { distro?: { url: string; keyFile: string } }): Promise<void> {
  if (!repo.distro) return;
  await fs.mkdir(path.join(root, path.dirname(DISTRO_KEY_IN_NODE)), { recursive: true });
  await fs.copyFile(repo.distro.keyFile, path.join(root, DISTRO_KEY_IN_NODE));
  await fs.writeFile(path.join(root, 'etc/apt/sources.list.d/debian.sources'), distroSources(repo.distro.url));
}
