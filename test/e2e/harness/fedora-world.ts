import { promises as fs } from 'node:fs';
import { onCleanup } from './cleanup.js';
import { newToken, renderConfig } from './config.js';
import { FEDORA_KUBE_VERSIONS, startFedoraRepos, type FedoraRepos } from './fedora.js';
import { Node } from './node.js';
import { linkFor } from './paths.js';
import { ensureRootfs } from './rootfs.js';
import { DOCKER_KEY_IN_NODE, REPO_KEY_IN_NODE } from './world.js';

export interface FedoraWorld {
  node: Node;
  repos: FedoraRepos;
  /** the agent config: Kubernetes v1.35.2, containerd.io from Docker's fedora layout */
  config: string;
  close(): Promise<void>;
}

// The Fedora-like node's world: the three repositories on its link, the distribution's
// repository file as Fedora ships it, the keys in the node. No control plane: these
// scenarios run the packages step, the part dnf5 changes.
export async function startFedoraWorld(o: { slot: number; log?: (m: string) => void }): Promise<FedoraWorld> {
  const parts: Partial<FedoraWorld> = {};
  const undo = onCleanup(`services of slot ${o.slot}`, async () => parts.repos?.close());
  const root = await ensureRootfs('fedora', o.log);
  const node = await Node.create({
    slot: o.slot,
    variant: 'fedora',
    log: o.log,
    beforeBoot: async (nodeRoot) => {
      const host = linkFor(o.slot).host;
      parts.repos = await startFedoraRepos(host, root);
      const version = `v${FEDORA_KUBE_VERSIONS[0].replace(/-[^-]+$/, '')}`;
      parts.config = renderConfig({ host, repoUrl: parts.repos.kubeUrl, repoKeyPath: REPO_KEY_IN_NODE, registry: `${host}:5000`, unsafeSkipCAVerification: true, token: newToken(), version, docker: { url: parts.repos.dockerUrl, keyPath: DOCKER_KEY_IN_NODE } });
      const { keys } = parts.repos;
      await fs.mkdir(`${nodeRoot}/etc/joinagent`, { recursive: true });
      for (const [k, src] of [[REPO_KEY_IN_NODE, keys.kube], [DOCKER_KEY_IN_NODE, keys.docker], ['/etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-41-x86_64', keys.distro]]) await fs.copyFile(src, `${nodeRoot}${k}`);
      await fs.writeFile(`${nodeRoot}/etc/yum.repos.d/fedora.repo`, ['[fedora]', 'name=Fedora $releasever - $basearch', `baseurl=${parts.repos.fedoraUrl}`, 'enabled=1', 'countme=1', 'metadata_expire=7d', 'repo_gpgcheck=0', 'type=rpm', 'gpgcheck=1', 'gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-$releasever-$basearch', 'skip_if_unavailable=False', ''].join('\n'));
    },
  });
  return {
    ...(parts as FedoraWorld),
    node,
    close: async () => {
      undo();
      await node.destroy();
      await parts.repos?.close();
    },
  };
}
