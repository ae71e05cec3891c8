import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { LoadedConfig } from '../config/types.js';
import { StepError, type StepContext } from '../engine/step.js';
import { parseOsRelease } from '../host/facts.js';
import { paths } from '../host/paths.js';
import { proxyView } from '../net/proxy.js';
import { workerImages } from '../runtime/images.js';
import { downloadDebs } from './apt-download.js';
import { renderSha256Sums, sha256, SUMS } from './checksums.js';
import { packagesStanza, releaseFile } from './deb-repo.js';
import { pullToLayout } from './oci-pull.js';

// `joinagent bundle`: everything a node of one Kubernetes version and OS family needs,
// collected on a connected machine: the packages with their dependencies as a flat apt
// repository, the two images as OCI archives, this binary, a manifest and SHA256SUMS in
// every directory. On the node, repositories.kubernetes.url and images.archives point at
// the unpacked directories; the agent checks the sums before using anything.
export const BUNDLE_DIR = 'joinagent-bundle';

export interface BundleResult {
  dir: string;
  packages: string[];
  images: { ref: string; file: string; from: string }[];
  binary?: string;
}

export async function makeBundle(ctx: StepContext, work: string, agentVersion: string): Promise<BundleResult> {
  const { config } = ctx;
  if (ctx.facts.family !== 'debian') {
    throw new StepError(`bundle: ${ctx.facts.osName} is ${ctx.facts.family === 'rhel' ? 'a dnf system' : 'not supported'}: joinagent makes bundles for Debian-family nodes only so far`, 'run joinagent bundle on a Debian or Ubuntu machine of the nodes\' release');
  }
  const out = path.posix.join(work, BUNDLE_DIR);
  const pkgDir = path.posix.join(out, 'packages');
  const imgDir = path.posix.join(out, 'images');
  await ctx.files.mkdir(pkgDir);
  await ctx.files.mkdir(imgDir);
  const all: Record<string, string> = {};

  const osr = parseOsRelease((await ctx.files.read(paths.osRelease)) ?? '');
  const debs = await downloadDebs(ctx, path.posix.join(work, 'apt'), { id: ctx.facts.osId, codename: osr.VERSION_CODENAME || osr.UBUNTU_CODENAME || undefined });
  const stanzas: string[] = [];
  const pkgSums: Record<string, string> = {};
  for (const deb of debs.sort()) {
    const name = path.posix.basename(deb);
    const data = (await ctx.files.readBytes(deb))!;
    const control = await ctx.proc.probe('dpkg-deb', ['-f', ctx.files.resolve(deb)]);
    stanzas.push(packagesStanza(control.stdout, name, data));
    await ctx.files.write(path.posix.join(pkgDir, name), data, { backup: false });
    pkgSums[name] = sha256(data);
  }
  const packagesText = Buffer.from(stanzas.join('\n'));
  const indexes = { Packages: packagesText, 'Packages.gz': gzipSync(packagesText) };
  const release = Buffer.from(releaseFile(indexes));
  for (const [f, d] of Object.entries({ ...indexes, Release: release })) {
    await ctx.files.write(path.posix.join(pkgDir, f), d, { backup: false });
    pkgSums[f] = sha256(d);
  }
  await ctx.files.write(path.posix.join(pkgDir, SUMS), renderSha256Sums(pkgSums), { backup: false });
  for (const [f, h] of Object.entries(pkgSums)) all[`packages/${f}`] = h;

  const images: BundleResult['images'] = [];
  const imgSums: Record<string, string> = {};
  const proxy = proxyView(config, [], ctx.facts.hostname);
  const refs = workerImages(config.agent);
  for (const ref of [refs.kubeProxy, refs.pause]) {
    const layout = path.posix.join(work, 'layouts', ref.replace(/[^A-Za-z0-9_.-]+/g, '_'));
    const { endpoint } = await pullToLayout(ref, layout, { config, files: ctx.files, arch: ctx.facts.arch, proxy, signal: ctx.signal, progress: ctx.progress }).catch((e: Error) => {
      throw new StepError(`bundle: ${e.message}`, 'check images.repository, containerd.registryMirrors and registries.* in the config, and this machine\'s network (or proxy.*)', false, { cause: e });
    });
    const file = `${ref.slice(ref.lastIndexOf('/') + 1).replace(':', '_')}.tar`;
    // a reproducible tar: same image, same bytes, same sha256
    await ctx.proc.run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', ctx.files.resolve(layout), '-cf', ctx.files.resolve(path.posix.join(imgDir, file)), '.']);
    imgSums[file] = sha256((await ctx.files.readBytes(path.posix.join(imgDir, file)))!);
    images.push({ ref, file, from: endpoint });
  }
  await ctx.files.write(path.posix.join(imgDir, SUMS), renderSha256Sums(imgSums), { backup: false });
  for (const [f, h] of Object.entries(imgSums)) all[`images/${f}`] = h;

  // the agent itself, when it runs as the single binary (not from source)
  let binary: string | undefined;
  if (process.getBuiltinModule('node:sea')?.isSea?.()) {
    const data = await ctx.files.readBytes(process.execPath);
    if (data) {
      await ctx.files.write(path.posix.join(out, 'joinagent'), data, { backup: false, mode: 0o755 });
      all.joinagent = sha256(data);
      binary = 'joinagent';
    }
  } else ctx.warn('bundle: not running as the joinagent binary: the bundle has no binary', 'run the built binary (dist/joinagent) to include it');

  const manifest = {
    apiVersion: 'joinagent.io/v1alpha1',
    kind: 'Bundle',
    kubernetesVersion: config.agent.kubernetesVersion,
    family: ctx.facts.family,
    os: `${ctx.facts.osId} ${ctx.facts.osVersion}`,
    arch: ctx.facts.arch,
    createdAt: new Date().toISOString(),
    agentVersion,
    containerd: config.agent.containerd.source,
    packages: Object.keys(pkgSums).filter((f) => f.endsWith('.deb')),
    images: images.map(({ ref, file }) => ({ ref, file })),
    binary,
  };
  const manifestText = JSON.stringify(manifest, null, 2) + '\n';
  await ctx.files.write(path.posix.join(out, 'manifest.json'), manifestText, { backup: false });
  all['manifest.json'] = sha256(Buffer.from(manifestText));
  await ctx.files.write(path.posix.join(out, SUMS), renderSha256Sums(all), { backup: false });
  return { dir: out, packages: manifest.packages, images, binary };
}

// The config a node uses with the bundle unpacked at `at` (documentation and the CLI's
// closing message).
export function nodeConfigHint(config: LoadedConfig, at = '/opt'): string {
  const root = path.posix.join(at, BUNDLE_DIR);
  return [`repositories:`, `  kubernetes: { url: "file://${root}/packages" }`, `images: { repository: ${config.agent.images.repository}, archives: ${root}/images }`].join('\n');
}
