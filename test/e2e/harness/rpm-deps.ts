import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { withCacheLock } from './cache-lock.js';
import { kubernetesCniSpec, KUBERNETES_CNI_DEB_VERSION } from './distro-repo.js';
import { cacheDir } from './paths.js';
import { buildRpm, kubeRpmFromDeb, signRpms, type RpmSpec } from './rpms.js';

// What the stand-in kube rpms depend on (debs.ts: kubelet requires iptables >= 1.4.21,
// kubernetes-cni >= 1.2.0 and util-linux; kubeadm cri-tools >= 1.30.0), for the dnf nodes.
// No Rocky or Fedora mirror is reachable, so these rpms are BUILT here:
// - kubernetes-cni: pkgs.k8s.io's name, version and layout (/opt/cni/bin), with the real
//   CNI plugin binaries of Debian's containernetworking-plugins 1.1.1 inside;
// - iptables-nft (RHEL 10 / Fedora's provider of `iptables`, from AppStream): no files, it
//   provides `iptables` to the rpm database; the node's iptables binaries are Debian's,
//   installed with its root. util-linux is in every node's base rpm, as on Rocky.

/** kubernetes-cni's rpm release on pkgs.k8s.io (the .deb's 1.6.0-1.1). */
export const KUBERNETES_CNI_RPM = `${KUBERNETES_CNI_DEB_VERSION.replace(/-[^-]+$/, '')}-150500.1.1`;

// The kubernetes-cni rpm, built and signed with the repository key once (cached).
export async function kubernetesCniRpm(): Promise<string> {
  const out = path.join(cacheDir, 'rpms-built', `kubernetes-cni-${KUBERNETES_CNI_RPM}.x86_64.rpm`);
  if (existsSync(out)) return out;
  const spec = kubeRpmFromDeb(await kubernetesCniSpec());
  return withCacheLock('kubernetes-cni-rpm', async () => {
    if (existsSync(out)) return out;
    await fs.mkdir(path.dirname(out), { recursive: true });
    const work = await fs.mkdtemp(path.join(path.dirname(out), '.build-'));
    try {
      const rpm = await buildRpm(spec, work);
      await signRpms([rpm], 'repo');
      await fs.rename(rpm, out);
      return out;
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });
}

// Puts the cached kubernetes-cni rpm into a repository directory (hard link: it is ~10 MB).
export async function addKubernetesCniRpm(dir: string): Promise<void> {
  const rpm = await kubernetesCniRpm();
  const dest = path.join(dir, path.basename(rpm));
  await fs.link(rpm, dest).catch(() => fs.copyFile(rpm, dest));
}

// RHEL 10's iptables-nft (AppStream), the provider of `iptables`; dependency target only.
export function iptablesNftRpm(release: string): RpmSpec {
  return { name: 'iptables-nft', version: '1.8.11', release, arch: 'x86_64', summary: 'nftables compatibility for iptables (e2e: dependency target only, the binaries are the node\'s)', provides: ['iptables = 1.8.11'], files: [] };
}
