import { startAptRepo, startDockerAptRepo, type AptRepo } from './aptrepo.js';
import { renderConfig, newToken } from './config.js';
import { startControlPlane, type ControlPlane } from './controlplane.js';
import { onCleanup } from './cleanup.js';
import type { CniMode } from './cni.js';
import type { LinkFamily } from './net.js';
import { Node } from './node.js';
import { linkFor } from './paths.js';
import type { RootfsVariant } from './rootfs.js';
import { startRegistry, type Registry } from './registry.js';
import { addDistroSource } from './distro-repo.js';

export const REPO_KEY_IN_NODE = '/etc/joinagent/kubernetes-repo.asc';
export const DOCKER_KEY_IN_NODE = '/etc/joinagent/docker-repo.asc';

export interface World {
  node: Node;
  repo: AptRepo;
  /** Docker's layout with containerd.io 2.1 (started with containerd: 'docker') */
  dockerRepo?: AptRepo;
  registry: Registry;
  /** undefined when started with controlPlane: false */
  cp?: ControlPlane;
  token: string;
  /** the control plane's address on the link (IPv6 unless the link is IPv4 only) */
  apiHost: string;
  /** the scenario's agent config (token inline unless tokenFile was asked for) */
  config: string;
  close(): Promise<void>;
}

export interface WorldOptions {
  slot: number;
  variant?: RootfsVariant;
  /** The node link's families. IPv6: everything on the link's IPv6 address; dual: the
   * repository and registry on IPv4, the control plane on IPv6 (the node needs both). */
  family?: LinkFamily;
  controlPlane?: boolean;
  tokenFile?: string;
  /** 'docker': containerd.io 2.1 from a Docker-style repository (containerd.source: docker) */
  containerd?: 'distro' | 'docker';
  /** packages the repositories leave out until repo.release() (e.g. kubernetes-cni) */
  withhold?: string[];
  /** see NodeOptions.allowSyscalls */
  allowSyscalls?: string[];
  /** after the services are up, before the node's first boot (cloud-init seeds) */
  beforeBoot?: (root: string, w: Omit<World, 'node' | 'close'>) => Promise<void>;
  log?: (m: string) => void;
  /** 'none': the cluster's CNI never reaches the node, which stays NotReady (cni.ts) */
  cni?: CniMode;
}

// One scenario's world: the node's link, then on its host side the signed apt repo,
// the registry and the simulated control plane, then the node boots. Everything is
// undone by close() (also registered with the harness cleanup for Ctrl-C).
export async function startWorld(o: WorldOptions): Promise<World> {
  const token = newToken();
  const parts: Partial<World> = { token };
  const closeServices = async (): Promise<void> => {
    await parts.cp?.close();
    await parts.registry?.close();
    await parts.repo?.close();
    await parts.dockerRepo?.close();
  };
  const undo = onCleanup(`services of slot ${o.slot}`, closeServices);
  const node = await Node.create({
    slot: o.slot,
    variant: o.variant,
    family: o.family,
    allowSyscalls: o.allowSyscalls,
    log: o.log,
    cni: o.cni,
    beforeBoot: async (root) => {
      const link = linkFor(o.slot);
      const host = o.family === 'ipv6' ? link.host6 : link.host;
      parts.apiHost = o.family === 'ipv6' || o.family === 'dual' ? link.host6 : link.host;
      parts.repo = await startAptRepo(host, 8080, undefined, { withhold: o.withhold });
      if (o.containerd === 'docker') parts.dockerRepo = await startDockerAptRepo(host);
      parts.registry = await startRegistry(host);
      // a dual-stack link is a dual-stack cluster: node-ipam hands out one podCIDR per family
      const clusterCidr = o.family === 'dual' ? '10.244.0.0/16,fd00:10:244::/56' : undefined;
      if (o.controlPlane !== false) parts.cp = await startControlPlane(parts.apiHost, token, undefined, undefined, clusterCidr ? { clusterCidr } : {});
      parts.config = renderConfig({ host: parts.apiHost, repoUrl: parts.repo.url, repoKeyPath: REPO_KEY_IN_NODE, registry: parts.registry.address, caCertHash: parts.cp?.caCertHash, unsafeSkipCAVerification: parts.cp ? undefined : true, token, tokenFile: o.tokenFile, docker: parts.dockerRepo ? { url: parts.dockerRepo.url, keyPath: DOCKER_KEY_IN_NODE } : undefined });
      const { promises: fs } = await import('node:fs');
      await fs.mkdir(`${root}/etc/joinagent`, { recursive: true });
      await fs.copyFile(parts.repo.keyFile, `${root}${REPO_KEY_IN_NODE}`);
      if (parts.dockerRepo) await fs.copyFile(parts.dockerRepo.keyFile, `${root}${DOCKER_KEY_IN_NODE}`);
      await addDistroSource(root, parts.repo);
      if (o.beforeBoot) await o.beforeBoot(root, parts as World);
    },
  });
  return {
    ...(parts as World),
    node,
    close: async () => {
      undo();
      await node.destroy();
      await closeServices();
    },
  };
}
