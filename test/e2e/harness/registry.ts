import { promises as fs } from 'node:fs';
import { pushTinyImages, startRegistry as startFixtureRegistry } from '../../fixtures/registry.js';

export interface Registry {
  /** host:port, plain HTTP */
  address: string;
  /** docker-registry's log: one line per request (proof that a pull went through the mirror). */
  log: string;
  close(): Promise<void>;
}

// The two images a worker needs, as the agent's mirror of registry.k8s.io serves them.
export const WORKER_IMAGES = ['kube-proxy:v1.32.11', 'pause:3.10'];

// The shared test registry (test/fixtures/registry.ts: Debian's docker-registry, tiny
// busybox images pushed with skopeo) on the node's link; its storage lives and dies
// with the scenario.
export async function startRegistry(host: string, port = 5000): Promise<Registry> {
  const dir = await fs.mkdtemp('/var/tmp/ja-e2e-registry-');
  const close = async (): Promise<void> => {
    await handle?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  };
  let handle: Awaited<ReturnType<typeof startFixtureRegistry>> | undefined;
  try {
    handle = await startFixtureRegistry({ host, port, dir });
    await pushTinyImages({ registry: handle.address, images: WORKER_IMAGES });
  } catch (e) {
    await close();
    throw e;
  }
  return { address: handle.address, log: handle.log, close };
}
