import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { withCacheLock } from './cache-lock.js';
import { cacheDir, repoRoot } from './paths.js';
import { sh } from './sh.js';

export interface DebSpec {
  name: string;
  /** Debian version, e.g. 1.32.11-1.1 (pkgs.k8s.io's scheme). */
  version: string;
  depends?: string;
  description: string;
  /** node path -> [host source file, mode]; @VERSION@ in a source becomes the upstream version. */
  files: Record<string, [string, number]>;
  postinst?: string;
}

const here = path.join(repoRoot, 'test/e2e/harness');

// The join branch's stand-ins follow kubeadm's and kubelet's contracts; until they land
// the harness ships placeholders that install but refuse to join (loudly).
export function standinsDir(): string {
  const real = path.join(repoRoot, 'test/fixtures/standins');
  return existsSync(path.join(real, 'kubeadm')) && existsSync(path.join(real, 'kubelet')) ? real : path.join(here, 'placeholder-standins');
}

// The dependencies of pkgs.k8s.io's v1.32 packages, from kubernetes/release's templates
// (cmd/krel/templates/latest: kubelet.spec's Requires, metadata.yaml's per-version
// dependencies). kubelet: iptables >= 1.4.21 and util-linux in the spec, mount on Debian
// only, kubernetes-cni >= 1.2.0 for >= 1.28 (conntrack, iproute2 and ethtool were dropped
// in Sept 2025, before v1.32.11). kubeadm: only cri-tools >= 1.30.0 (the ">= 1.30.0" entry
// matched 1.32 too until April 2026); kubectl and cri-tools: none. rpms.ts maps the names.
export const KUBELET_DEPENDS = 'iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0), mount, util-linux';
export const KUBEADM_DEPENDS = 'cri-tools (>= 1.30.0)';

// The four packages pkgs.k8s.io serves for a version, with upstream's file layout: the
// kubelet unit in kubelet, kubeadm's 10-kubeadm.conf drop-in in kubeadm.
export function kubePackages(version: string): DebSpec[] {
  const s = standinsDir();
  const crictl = existsSync(path.join(s, 'crictl')) ? path.join(s, 'crictl') : path.join(here, 'debs/crictl');
  return [
    { name: 'kubelet', version, depends: KUBELET_DEPENDS, description: 'Kubernetes node agent (e2e stand-in)', files: { '/usr/bin/kubelet': [path.join(s, 'kubelet'), 0o755], '/usr/lib/systemd/system/kubelet.service': [path.join(here, 'debs/kubelet.service'), 0o644], ...KUBELET_KEEP, ...standinHelpers(s, 'kubelet', ['kubelet-bootstrap', 'kubelet-runtime.sh']) } },
    { name: 'kubeadm', version, depends: KUBEADM_DEPENDS, description: 'Kubernetes cluster bootstrapping tool (e2e stand-in)', files: { '/usr/bin/kubeadm': [path.join(s, 'kubeadm'), 0o755], '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf': [path.join(here, 'debs/10-kubeadm.conf'), 0o644], ...standinHelpers(s, 'kubeadm', ['kubeadm-patches', 'kubeadm-config', 'kubeadm-preflight', 'kubeadm-upgrade']) } },
    { name: 'kubectl', version, description: 'Kubernetes command line tool (e2e stand-in)', files: { '/usr/bin/kubectl': [path.join(here, 'debs/kubectl'), 0o755] } },
    { name: 'cri-tools', version: `${version.split('.').slice(0, 2).join('.')}.0-1.1`, description: 'CRI command line tools (e2e stand-in)', files: { '/usr/bin/crictl': [crictl, 0o755] } },
  ];
}

// kubernetes/release's kubelet.spec touches these for the .deb only (dpkg-deb keeps no empty
// directory): /etc/kubernetes/manifests is never empty on a Debian node, and kubeadm v1.32's
// join does not mind (it dropped DirAvailable--etc-kubernetes-manifests for workers).
export const KUBELET_KEEP: Record<string, [string, number]> = {
  '/etc/kubernetes/manifests/.kubelet-keep': [path.join(here, 'debs/kubelet-keep'), 0o644],
  '/var/lib/kubelet/.kubelet-keep': [path.join(here, 'debs/kubelet-keep'), 0o644],
};

// A stand-in's helper files (those the stand-ins directory has), where the stand-in
// looks for them when it is installed: /usr/lib/<component>-standin/.
function standinHelpers(s: string, component: string, names: string[]): Record<string, [string, number]> {
  return Object.fromEntries(names.filter((n) => existsSync(path.join(s, n))).map((n) => [`/usr/lib/${component}-standin/${n}`, [path.join(s, n), 0o755]]));
}

// Builds one .deb with dpkg-deb (root-owned files, exact modes) into outDir.
export async function buildDeb(spec: DebSpec, outDir: string): Promise<string> {
  const upstream = spec.version.replace(/-[^-]+$/, '');
  const work = await fs.mkdtemp(path.join(outDir, `.${spec.name}-`));
  try {
    for (const [dest, [src, mode]] of Object.entries(spec.files)) {
      const target = path.join(work, dest);
      await fs.mkdir(path.dirname(target), { recursive: true });
      // text files are templates; binaries (the CNI plugins) are copied as they are
      const data = await fs.readFile(src);
      await fs.writeFile(target, data.includes(0) ? data : data.toString('utf8').replaceAll('@VERSION@', upstream), { mode });
      await fs.chmod(target, mode);
    }
    await fs.mkdir(path.join(work, 'DEBIAN'));
    const control = [`Package: ${spec.name}`, `Version: ${spec.version}`, 'Architecture: amd64', 'Maintainer: joinagent e2e <e2e@joinagent.invalid>', ...(spec.depends ? [`Depends: ${spec.depends}`] : []), 'Section: admin', 'Priority: optional', `Description: ${spec.description}`, ''];
    await fs.writeFile(path.join(work, 'DEBIAN/control'), control.join('\n'));
    if (spec.postinst) await fs.writeFile(path.join(work, 'DEBIAN/postinst'), spec.postinst, { mode: 0o755 });
    const out = path.join(outDir, `${spec.name}_${spec.version}_amd64.deb`);
    await sh('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', work, out]);
    return out;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

// Debian's own containerd and runc (+ what minbase lacks), downloaded once with the
// host's apt and cached: the node installs them from the test repository offline.
export async function distroDebs(names = ['containerd', 'runc']): Promise<string[]> {
  const dir = path.join(cacheDir, 'debs');
  await fs.mkdir(dir, { recursive: true });
  const missingIn = (have: string[]): string[] => names.filter((n) => !have.some((f) => f.startsWith(`${n}_`) && f.endsWith('.deb')));
  if (missingIn(await fs.readdir(dir)).length) {
    await withCacheLock('debs', async () => {
      const missing = missingIn(await fs.readdir(dir));
      if (!missing.length) return;
      // a fresh machine may have empty package lists: update once, then download
      const r = await sh('apt-get', ['download', ...missing], { cwd: dir, timeoutMs: 5 * 60_000, allowFailure: true });
      if (r.exitCode !== 0) {
        await sh('apt-get', ['update', '-qq'], { timeoutMs: 5 * 60_000 });
        await sh('apt-get', ['download', ...missing], { cwd: dir, timeoutMs: 5 * 60_000 });
      }
    });
  }
  const all = await fs.readdir(dir);
  return names.map((n) => path.join(dir, all.find((f) => f.startsWith(`${n}_`) && f.endsWith('.deb'))!));
}
