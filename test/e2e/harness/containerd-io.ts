import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { withCacheLock } from './cache-lock.js';
import { distroDebs } from './debs.js';
import { cacheDir, repoRoot } from './paths.js';
import { downloadSidPackage } from './sid.js';
import { sh } from './sh.js';

// containerd 2.1 as Docker packages it (containerd.io), built from real containerd 2.1.9
// binaries: Debian sid's containerd .deb runs on Debian 12 (it needs only runc and libc6
// >= 2.34), no Docker repository is reachable from here. Like Docker's package it bundles
// runc, replaces the distribution's containerd and runc, and ships a config.toml that
// disables the CRI plugin, without a version line.

export const CONTAINERD2_UPSTREAM = '2.1.9';
const SID_VERSION = '2.1.9+ds1-5';
/** Docker's Debian naming: <upstream>-<rev>~debian.<release>~<codename>. */
export const CONTAINERD_IO_DEB_VERSION = `${CONTAINERD2_UPSTREAM}-1~debian.12~bookworm`;
/** Docker's own /etc/containerd/config.toml of containerd.io (disabled_plugins = ["cri"]). */
export const DOCKER_CONFIG_TOML = path.join(repoRoot, 'test/fixtures/containerd/containerd.io.toml');

// Debian sid's containerd 2.1.9 .deb, fetched once with a private apt list (the host's
// own apt setup is not touched) and cached.
export async function sidContainerdDeb(): Promise<string> {
  const dir = path.join(cacheDir, 'debs-sid');
  const file = path.join(dir, `containerd_${SID_VERSION.replace(':', '%3a')}_amd64.deb`);
  if (existsSync(file)) return file;
  return withCacheLock('debs-sid', async () => {
    if (existsSync(file)) return file;
    await downloadSidPackage('containerd', SID_VERSION, dir);
    if (!existsSync(file)) throw new Error(`apt-get download containerd=${SID_VERSION} left no ${file}`);
    return file;
  });
}

/** The containerd 2.1.9 binaries (containerd, containerd-shim-runc-v2, ctr), extracted once. */
export async function containerd2Bin(): Promise<string> {
  const dir = path.join(cacheDir, `containerd-${CONTAINERD2_UPSTREAM}`);
  if (existsSync(path.join(dir, '.complete'))) return path.join(dir, 'usr/bin');
  const deb = await sidContainerdDeb();
  return withCacheLock(`containerd-${CONTAINERD2_UPSTREAM}`, async () => {
    if (!existsSync(path.join(dir, '.complete'))) {
      await fs.rm(dir, { recursive: true, force: true });
      await sh('dpkg-deb', ['-x', deb, dir]);
      await fs.writeFile(path.join(dir, '.complete'), `${SID_VERSION}\n`);
    }
    return path.join(dir, 'usr/bin');
  });
}

// The files of Docker's containerd.io package, as [path in the package, source file, mode].
export async function containerdIoFiles(): Promise<[string, string, number][]> {
  const bin = await containerd2Bin();
  const [runcDeb] = await distroDebs(['runc']);
  const runcDir = path.join(cacheDir, 'runc-extracted');
  if (!existsSync(path.join(runcDir, 'usr/sbin/runc'))) {
    await withCacheLock('runc-extracted', async () => {
      if (!existsSync(path.join(runcDir, 'usr/sbin/runc'))) await sh('dpkg-deb', ['-x', runcDeb, runcDir]);
    });
  }
  return [
    ['/usr/bin/containerd', path.join(bin, 'containerd'), 0o755],
    ['/usr/bin/containerd-shim-runc-v2', path.join(bin, 'containerd-shim-runc-v2'), 0o755],
    ['/usr/bin/ctr', path.join(bin, 'ctr'), 0o755],
    ['/usr/bin/runc', path.join(runcDir, 'usr/sbin/runc'), 0o755],
    ['/lib/systemd/system/containerd.service', path.join(bin, '../lib/systemd/system/containerd.service'), 0o644],
    ['/etc/containerd/config.toml', DOCKER_CONFIG_TOML, 0o644],
  ];
}

// containerd.io_<version>_amd64.deb, built once into the cache: Docker's metadata
// (Provides/Conflicts/Replaces containerd and runc), the config as a conffile.
export async function containerdIoDeb(): Promise<string> {
  const out = path.join(cacheDir, 'debs-built', `containerd.io_${CONTAINERD_IO_DEB_VERSION}_amd64.deb`);
  if (existsSync(out)) return out;
  const files = await containerdIoFiles();
  return withCacheLock('containerd-io-deb', async () => {
    if (existsSync(out)) return out;
    await fs.mkdir(path.dirname(out), { recursive: true });
    const work = await fs.mkdtemp(path.join(path.dirname(out), '.containerd.io-'));
    try {
      for (const [dest, src, mode] of files) {
        await fs.mkdir(path.dirname(path.join(work, dest)), { recursive: true });
        await fs.copyFile(src, path.join(work, dest));
        await fs.chmod(path.join(work, dest), mode);
      }
      await fs.mkdir(path.join(work, 'DEBIAN'));
      await fs.writeFile(path.join(work, 'DEBIAN/conffiles'), '/etc/containerd/config.toml\n');
      await fs.writeFile(
        path.join(work, 'DEBIAN/control'),
        [
          'Package: containerd.io',
          `Version: ${CONTAINERD_IO_DEB_VERSION}`,
          'Architecture: amd64',
          'Maintainer: joinagent e2e <e2e@joinagent.invalid>',
          'Depends: libc6 (>= 2.34), libseccomp2 (>= 2.5.0)',
          'Provides: containerd, runc',
          'Conflicts: containerd, runc',
          'Replaces: containerd, runc',
          'Section: devel',
          'Priority: optional',
          'Description: An open and reliable container runtime (e2e: real containerd 2.1.9 and runc, packaged as Docker does)',
          '',
        ].join('\n'),
      );
      // like Docker's package: enable and (re)start the service on install
      await fs.writeFile(path.join(work, 'DEBIAN/postinst'), '#!/bin/sh\nset -e\nif [ "$1" = configure ] && [ -d /run/systemd/system ]; then\n  systemctl daemon-reload\n  systemctl enable containerd.service >/dev/null 2>&1 || true\n  systemctl restart containerd.service || true\nfi\n', { mode: 0o755 });
      await sh('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', work, `${out}.tmp`], { timeoutMs: 5 * 60_000 });
      await fs.rename(`${out}.tmp`, out);
      return out;
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });
}
