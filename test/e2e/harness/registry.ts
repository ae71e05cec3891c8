import { promises as fs } from 'node:fs';
import net from 'node:net';
import { pushTinyImages, startRegistry as startFixtureRegistry } from '../../fixtures/registry.js';

export interface Registry {
  /** host:port (IPv6 as [addr]:port), plain HTTP */
  address: string;
  /** docker-registry's log: one line per request (proof that a pull went through the mirror). */
  log: string;
  close(): Promise<void>;
}

// The two images a worker needs, as the agent's mirror of registry.k8s.io serves them.
// kube-proxy of every version the test repositories hold (the upgrade scenarios pre-pull
// the new one); pause 3.10 is kubeadm's for both 1.32 and 1.33.
export const WORKER_IMAGES = ['kube-proxy:v1.32.11', 'pause:3.10', 'kube-proxy:v1.32.12', 'kube-proxy:v1.33.2'];

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
  const v6 = host.includes(':');
  try {
    handle = await startFixtureRegistry({ host: v6 ? `[${host}]` : host, port, dir });
    // Debian 12's skopeo (1.9) refuses an IPv6 literal in an image reference ("invalid
    // reference format"): push through a loopback forwarder to the same registry
    if (v6) await viaLoopback(host, port, (address) => pushTinyImages({ registry: address, images: WORKER_IMAGES }));
    else await pushTinyImages({ registry: handle.address, images: WORKER_IMAGES });
  } catch (e) {
    await close();
    throw e;
  }
  return { address: handle.address, log: handle.log, close };
}

// A TCP forwarder on 127.0.0.1 (ephemeral port) to host:port for the length of fn.
async function viaLoopback<T>(host: string, port: number, fn: (address: string) => Promise<T>): Promise<T> {
  const server = net.createServer((c) => {
    const up = net.connect({ host, port });
    c.pipe(up).pipe(c);
    up.on('error', () => c.destroy());
    c.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  } finally {
    server.close();
  }
}
