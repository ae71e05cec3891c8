import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deepMerge, parseToml, renderToml } from '../../src/runtime/toml.js';
import { containerdFixture, privateContainerdSettings, type ContainerdFixture } from '../fixtures/containerd.js';
import { createNetns, uniqueName } from '../fixtures/netns.js';
import { pushTinyImages, startRegistry, type RegistryHandle } from '../fixtures/registry.js';

// One real runtime environment for a test: a private network namespace holding a real
// registry (127.0.0.1:19715 inside it) and a real containerd on a private root under a
// temp --root, plus the fake systemctl that drives it.

export const REGISTRY_PORT = 19715;
export const STATUS_PORT = 19717;
export const TINY_IMAGES = ['kube-proxy:v1.32.11', 'pause:3.10'];

export interface RuntimeEnv {
  root: string;
  ctr: ContainerdFixture;
  registry?: RegistryHandle;
  netns: string;
  /** Writes <root>/etc/containerd/config.toml: the given config with the private paths merged in. */
  writeContainerdConfig(text: string): void;
  cleanup(): Promise<void>;
}

export async function runtimeEnv(opts: { registry?: boolean; images?: string[] } = {}): Promise<RuntimeEnv> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ja-rt-'));
  const ns = await createNetns(uniqueName('ja-rt'));
  let registry: RegistryHandle | undefined;
  try {
    if (opts.registry !== false) {
      registry = await startRegistry({ host: '127.0.0.1', port: REGISTRY_PORT, dir: `${root}.registry`, netns: ns.name });
      await pushTinyImages({ registry: registry.address, images: opts.images ?? TINY_IMAGES, netns: ns.name });
    }
  } catch (e) {
    await registry?.stop();
    await ns.remove();
    throw e;
  }
  mkdirSync(path.join(root, 'etc/containerd'), { recursive: true });
  writeFileSync(path.join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  const ctr = containerdFixture({ root, netns: ns.name });
  return {
    root,
    ctr,
    registry,
    netns: ns.name,
    writeContainerdConfig(text) {
      // merged structurally: appending text after a [table] would move its top-level keys into that table
      const doc = deepMerge(parseToml(text), parseToml(privateContainerdSettings(root)));
      writeFileSync(ctr.configPath, renderToml(doc));
    },
    async cleanup() {
      await ctr.stop().catch(() => undefined);
      await registry?.stop();
      await ns.remove();
      for (const d of [root, `${root}.registry`, `${root}.ctr`]) rmSync(d, { recursive: true, force: true });
    },
  };
}

export function agentYaml(opts: { mirrors?: Record<string, string[]>; kubernetesVersion?: string; archives?: string; criSocket?: string } = {}): string {
  const mirrors = opts.mirrors ?? { 'registry.k8s.io': [`http://127.0.0.1:${REGISTRY_PORT}`] };
  return [
    'apiVersion: joinagent.io/v1alpha1',
    'kind: AgentConfiguration',
    `kubernetesVersion: ${opts.kubernetesVersion ?? 'v1.32.11'}`,
    'host: { ntp: false, selinux: leave, firewall: leave, swap: leave }',
    'containerd:',
    '  source: distro',
    `  registryMirrors: ${JSON.stringify(mirrors)}`,
    ...(opts.archives ? [`images: { archives: ${opts.archives} }`] : []),
    `status: { address: "127.0.0.1:${STATUS_PORT}" }`,
    '---',
    'apiVersion: kubeadm.k8s.io/v1beta4',
    'kind: JoinConfiguration',
    'discovery: { bootstrapToken: { apiServerEndpoint: "192.168.10.100:6443", unsafeSkipCAVerification: true } }',
    `nodeRegistration: { criSocket: "${opts.criSocket ?? 'unix:///run/containerd/containerd.sock'}" }`,
    '',
  ].join('\n');
}
