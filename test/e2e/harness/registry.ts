import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { cacheDir } from './paths.js';
import { sh, waitFor } from './sh.js';

export interface Registry {
  /** host:port, plain HTTP */
  address: string;
  close(): Promise<void>;
}

// The two images a worker needs, as the agent's mirror of registry.k8s.io serves them.
export const WORKER_IMAGES = [
  { name: 'kube-proxy', tag: 'v1.32.11', cmd: ['/bin/busybox', 'sleep', '3600'] },
  { name: 'pause', tag: '3.10', cmd: ['/bin/busybox', 'sleep', 'infinity'] },
];

// A real OCI registry (Debian's docker-registry) on host:port with the worker images
// pushed by skopeo; its storage lives and dies with the scenario.
export async function startRegistry(host: string, port = 5000): Promise<Registry> {
  const dir = await fs.mkdtemp('/var/tmp/ja-e2e-registry-');
  const config = path.join(dir, 'config.yml');
  await fs.writeFile(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}:${port}\n`);
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(path.join(dir, 'registry.log'));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const address = `${host}:${port}`;
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`docker-registry on ${address}`, async () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${await fs.readFile(path.join(dir, 'registry.log'), 'utf8')}`);
      const r = await fetch(`http://${address}/v2/`).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    }, 15_000, 100);
    const layout = await tinyImages();
    for (const img of WORKER_IMAGES) {
      await sh('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:${img.name}`, `docker://${address}/${img.name}:${img.tag}`]);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { address, close };
}

// Busybox-static images built once with umoci (no Docker engine here), cached as an
// OCI layout; each image gets its own command so their digests differ.
async function tinyImages(): Promise<string> {
  const layout = path.join(cacheDir, 'images/oci');
  if (existsSync(path.join(cacheDir, 'images/.complete'))) return layout;
  await fs.rm(path.join(cacheDir, 'images'), { recursive: true, force: true });
  await fs.mkdir(path.join(cacheDir, 'images'), { recursive: true });
  const bundle = path.join(cacheDir, 'images/bundle');
  await sh('umoci', ['init', '--layout', layout]);
  await sh('umoci', ['new', '--image', `${layout}:base`]);
  await sh('umoci', ['unpack', '--image', `${layout}:base`, bundle]);
  await fs.mkdir(path.join(bundle, 'rootfs/bin'), { recursive: true });
  await fs.copyFile('/bin/busybox', path.join(bundle, 'rootfs/bin/busybox'));
  await fs.chmod(path.join(bundle, 'rootfs/bin/busybox'), 0o755);
  await fs.symlink('busybox', path.join(bundle, 'rootfs/bin/sh'));
  await sh('umoci', ['repack', '--image', `${layout}:base`, bundle]);
  for (const img of WORKER_IMAGES) {
    await sh('umoci', ['config', '--image', `${layout}:base`, '--tag', img.name, '--config.entrypoint', img.cmd[0]!, ...img.cmd.slice(1).flatMap((c) => ['--config.cmd', c])]);
  }
  await fs.rm(bundle, { recursive: true, force: true });
  await fs.writeFile(path.join(cacheDir, 'images/.complete'), '');
  return layout;
}
