import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { containerdIoDeb } from './containerd-io.js';
import { buildDeb, distroDebs, kubePackages } from './debs.js';
import { serveDir, type StaticServer } from './http.js';
import { cachedKey, withSigningKey, type KeyName, type SigningKey } from './gpgkey.js';
import { DISTRO_DEPS, DISTRO_SUITE, fillDistroPool, indexDistroRepo, kubernetesCniDeb } from './distro-repo.js';
import { sh } from './sh.js';

export interface AptRepo extends StaticServer {
  /** Armored public key on this host; copy it into the node for repositories.kubernetes.key. */
  keyFile: string;
  dir: string;
  /** The distribution mirror beside it (`deb URL bookworm main`: iptables and its libraries) and its key. */
  distro?: { url: string; keyFile: string };
  /** Publishes packages held back with `withhold` (indexes re-signed): the repository is fixed. */
  release?(names: string[]): Promise<void>;
}

export const KUBE_DEB_VERSION = '1.32.11-1.1';
// A newer patch in the same minor repository, like pkgs.k8s.io has: an agent that does
// not pin the exact version installs this one and the scenarios catch it.
export const NEWER_DEB_VERSION = '1.32.12-1.1';

// Builds a signed flat repository (pkgs.k8s.io's layout: `deb URL /`) with Debian's
// containerd and runc, the stand-in kube packages and kubernetes-cni, and serves it at
// http://host:port/debian/; beside it, under distro/, the distribution mirror with the
// real Debian packages kubelet depends on (distro-repo.ts). `withhold`: packages left out
// of both until release() (a repository missing a dependency, as in the field).
export async function startAptRepo(host: string, port = 8080, workDir?: string, opts: { withhold?: string[] } = {}): Promise<AptRepo> {
  const dir = workDir ?? (await fs.mkdtemp('/var/tmp/ja-e2e-repo-'));
  const pool = path.join(dir, 'pool');
  await fs.mkdir(pool, { recursive: true });
  for (const deb of [...(await distroDebs()), await kubernetesCniDeb()]) await fs.copyFile(deb, path.join(pool, path.basename(deb)));
  for (const v of [KUBE_DEB_VERSION, NEWER_DEB_VERSION]) {
    for (const spec of kubePackages(v)) if (!existsSync(path.join(pool, `${spec.name}_${spec.version}_amd64.deb`))) await buildDeb(spec, pool);
  }
  const distroDir = path.join(dir, 'distro');
  const distroPool = await fillDistroPool(distroDir);
  const indexDistro = (): Promise<void> => indexDistroRepo(distroDir, async (dist, files) => void (await signedRelease(dist, files, [`Suite: ${DISTRO_SUITE}`, `Codename: ${DISTRO_SUITE}`, 'Components: main', 'Description: joinagent e2e: the distribution mirror (real Debian 12 packages)'], 'distro')));
  const held = path.join(dir, '.withheld');
  await fs.mkdir(held);
  for (const name of opts.withhold ?? []) {
    for (const p of [pool, distroPool]) for (const f of await fs.readdir(p)) if (f.startsWith(`${name}_`)) await fs.rename(path.join(p, f), path.join(held, f));
  }
  const index = async (): Promise<string> => {
    const packages = (await sh('dpkg-scanpackages', ['--multiversion', 'pool', '/dev/null'], { cwd: dir })).stdout;
    await fs.writeFile(path.join(dir, 'Packages'), packages);
    await fs.writeFile(path.join(dir, 'Packages.gz'), gzipSync(packages));
    await indexDistro();
    return (await signedRelease(dir, ['Packages', 'Packages.gz'], ['Description: joinagent e2e test repository (Debian containerd/runc + kube stand-ins)'])).publicKey;
  };
  const keyFile = await index();
  await fs.copyFile(keyFile, path.join(dir, 'Release.key'));
  const server = await serveDir(dir, host, port, '/debian/');
  const release = async (names: string[]): Promise<void> => {
    for (const f of await fs.readdir(held)) {
      if (!names.some((n) => f.startsWith(`${n}_`))) continue;
      const distroPkg = (await distroDebs(DISTRO_DEPS)).some((d) => path.basename(d) === f);
      await fs.rename(path.join(held, f), path.join(distroPkg ? distroPool : pool, f));
    }
    await index();
  };
  const distro = { url: `${server.url}distro`, keyFile: (await cachedKey('distro')).publicKey };
  return { ...server, keyFile, dir, distro, release, close: async () => { await server.close(); if (!workDir) await fs.rm(dir, { recursive: true, force: true }); } };
}

// Docker's apt repository layout (download.docker.com/linux/debian: `deb URL bookworm
// stable`, dists/bookworm/stable/binary-amd64, key at URL/gpg) with containerd.io 2.1,
// served at http://host:port/linux/debian.
export async function startDockerAptRepo(host: string, port = 8081): Promise<AptRepo> {
  const dir = await fs.mkdtemp('/var/tmp/ja-e2e-docker-repo-');
  const deb = await containerdIoDeb();
  const pool = path.join(dir, 'pool/stable/c/containerd.io');
  await fs.mkdir(pool, { recursive: true });
  await fs.copyFile(deb, path.join(pool, path.basename(deb)));
  const dist = path.join(dir, 'dists/bookworm');
  await fs.mkdir(path.join(dist, 'stable/binary-amd64'), { recursive: true });
  const packages = (await sh('dpkg-scanpackages', ['--multiversion', 'pool', '/dev/null'], { cwd: dir })).stdout;
  await fs.writeFile(path.join(dist, 'stable/binary-amd64/Packages'), packages);
  await fs.writeFile(path.join(dist, 'stable/binary-amd64/Packages.gz'), gzipSync(packages));
  const gpg = await signedRelease(dist, ['stable/binary-amd64/Packages', 'stable/binary-amd64/Packages.gz'], ['Suite: bookworm', 'Codename: bookworm', 'Components: stable', 'Description: joinagent e2e: Docker-style repository (containerd.io)']);
  await fs.copyFile(gpg.publicKey, path.join(dir, 'gpg'));
  const server = await serveDir(dir, host, port, '/linux/debian/');
  return { ...server, url: server.url.replace(/\/$/, ''), keyFile: gpg.publicKey, dir, close: async () => { await server.close(); await fs.rm(dir, { recursive: true, force: true }); } };
}

// Release (with the hashes apt verifies), InRelease and Release.gpg, signed by the test key.
async function signedRelease(dir: string, files: string[], fields: string[], key: KeyName = 'repo'): Promise<{ publicKey: string }> {
  await fs.writeFile(path.join(dir, 'Release'), await releaseFile(dir, files, fields));
  await fs.rm(path.join(dir, 'InRelease'), { force: true });
  await fs.rm(path.join(dir, 'Release.gpg'), { force: true });
  return withSigningKey(async (gpg) => {
    await sh('gpg', [...gpg.args, '--clearsign', '-o', path.join(dir, 'InRelease'), path.join(dir, 'Release')], { env: gpg.env });
    await sh('gpg', [...gpg.args, '--armor', '--detach-sign', '-o', path.join(dir, 'Release.gpg'), path.join(dir, 'Release')], { env: gpg.env });
    return gpg;
  }, key);
}

// Release with the hashes apt verifies; Date is required by apt, Valid-Until left out.
async function releaseFile(dir: string, files: string[], fields: string[]): Promise<string> {
  const rows = await Promise.all(files.map(async (f) => ({ f, data: await fs.readFile(path.join(dir, f)) })));
  const sums = (algo: string) => rows.map(({ f, data }) => ` ${createHash(algo).update(data).digest('hex')} ${data.length} ${f}`);
  return [
    'Origin: joinagent-e2e',
    'Label: joinagent-e2e',
    'Architectures: amd64 all',
    `Date: ${new Date().toUTCString().replace('GMT', 'UTC')}`,
    ...fields,
    'MD5Sum:', ...sums('md5'),
    'SHA256:', ...sums('sha256'),
    '',
  ].join('\n');
}

// The test signing key (made once, cached); sign with withSigningKey() (gpgkey.ts).
export async function repoKey(): Promise<SigningKey> {
  return cachedKey('repo');
}
