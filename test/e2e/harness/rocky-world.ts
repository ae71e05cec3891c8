import { promises as fs } from 'node:fs';
import { onCleanup } from './cleanup.js';
import { newToken, renderConfig } from './config.js';
import { startControlPlane, type ControlPlane } from './controlplane.js';
import { Node } from './node.js';
import { linkFor } from './paths.js';
import { startRegistry, type Registry } from './registry.js';
import { startRpmRepos, type RpmRepos } from './rocky.js';
import { DOCKER_KEY_IN_NODE, REPO_KEY_IN_NODE } from './world.js';

/** The harness's own NetworkManager file in a 'rocky-nm' node: host0 is systemd-networkd's
 *  (NetworkManager's auto-default DHCP connection would take its address away). */
export const NM_HOST0_CONF = '/etc/NetworkManager/conf.d/10-e2e-host0.conf';
export const NM_HOST0 = '# the e2e link is systemd-networkd\'s\n[keyfile]\nunmanaged-devices=interface-name:host0\n';

export interface RockyWorld {
  node: Node;
  repos: RpmRepos;
  registry: Registry;
  cp?: ControlPlane;
  token: string;
  config: string;
  close(): Promise<void>;
}

// The Rocky-like node's world: its BaseOS, pkgs.k8s.io-style and docker-ce.repo-style
// repositories, the registry mirror and the simulated control plane on its link; the
// agent config is the runbook's (containerd.io from Docker, firewall as asked); `hardened`
// turns on repo_gpgcheck in dnf.conf.
// `networkManager` boots it with NetworkManager running (the 'rocky-nm' root); the
// harness's link (host0, systemd-networkd's) is kept from it by a conf.d file of its own,
// as an operator keeps a NIC another tool manages.
export async function startRockyWorld(o: { slot: number; firewall?: 'disable' | 'open-ports' | 'leave'; log?: (m: string) => void; hardened?: boolean; withhold?: string[]; networkManager?: boolean }): Promise<RockyWorld> {
  const token = newToken();
  const parts: Partial<RockyWorld> = { token };
  const closeServices = async (): Promise<void> => {
    await parts.cp?.close();
    await parts.registry?.close();
    await parts.repos?.close();
  };
  const undo = onCleanup(`services of slot ${o.slot}`, closeServices);
  const node = await Node.create({
    slot: o.slot,
    variant: o.networkManager ? 'rocky-nm' : 'rocky',
    log: o.log,
    beforeBoot: async (root) => {
      const host = linkFor(o.slot).host;
      parts.repos = await startRpmRepos(host, 8082, { withhold: o.withhold });
      parts.registry = await startRegistry(host);
      parts.cp = await startControlPlane(host, token);
      parts.config = renderConfig({ host, repoUrl: parts.repos.kubeUrl, repoKeyPath: REPO_KEY_IN_NODE, registry: parts.registry.address, caCertHash: parts.cp.caCertHash, token, docker: { url: parts.repos.dockerUrl, keyPath: DOCKER_KEY_IN_NODE }, firewall: o.firewall ?? 'disable' });
      await fs.mkdir(`${root}/etc/joinagent`, { recursive: true });
      const { keys } = parts.repos;
      for (const [k, src] of [[REPO_KEY_IN_NODE, keys.kube], [DOCKER_KEY_IN_NODE, keys.docker], ['/etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-10', keys.distro]]) await fs.copyFile(src, `${root}${k}`);
      // a hardened host (CIS benchmarks): repository metadata signatures checked everywhere
      if (o.hardened) await fs.appendFile(`${root}/etc/dnf/dnf.conf`, 'repo_gpgcheck=1\n');
      if (o.networkManager) await fs.writeFile(`${root}${NM_HOST0_CONF}`, NM_HOST0);
      // Rocky's own BaseOS repository file, as the distribution ships it
      const rockyRepo = (id: string, name: string, url: string): string[] => [`[${id}]`, `name=Rocky Linux $releasever - ${name}`, `baseurl=${url.replace('/10/', '/$releasever/').replace('/x86_64/', '/$basearch/')}`, 'gpgcheck=1', 'enabled=1', 'countme=1', 'gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-10', ''];
      await fs.writeFile(`${root}/etc/yum.repos.d/rocky.repo`, [...rockyRepo('baseos', 'BaseOS', parts.repos.baseosUrl), ...rockyRepo('appstream', 'AppStream', parts.repos.appstreamUrl)].join('\n'));
    },
  });
  return {
    ...(parts as RockyWorld),
    node,
    close: async () => {
      undo();
      await node.destroy();
      await closeServices();
    },
  };
}
