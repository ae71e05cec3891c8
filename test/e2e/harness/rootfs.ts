import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { withCacheLock } from './cache-lock.js';
import { hostDebianMirror } from './mirror.js';
import { cacheDir } from './paths.js';
import { FEDORA_LAYOUT, FEDORA_PACKAGES, fedorify } from './fedora.js';
import { ROCKY_LAYOUT, ROCKY_PACKAGES, rockify } from './rocky.js';
import { sh } from './sh.js';

// What a fresh Debian 12 node has: systemd to boot, the tools the stand-ins use (curl,
// openssl, busybox httpd/nc), nftables and gnupg (apt keyrings). Nothing Kubernetes.
export const BASE_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'iproute2', 'procps', 'kmod', 'curl', 'ca-certificates', 'openssl', 'nftables', 'busybox', 'gnupg', 'tzdata'];

export type RootfsVariant = 'base' | 'cloud-init' | 'rocky' | 'rocky-nm' | 'fedora' | 'ansible';

// The Debian suite a variant is built from: bookworm, except the Fedora-like node, whose
// dnf5 needs sid's glibc (>= 2.38).
export function suiteOf(variant: RootfsVariant): string {
  return variant === 'fedora' ? 'sid' : 'bookworm';
}

// 'ansible' is the bench's no-op node: Debian's `ansible` (ansible-core plus the
// community.general and ansible.posix collections the reference playbook
// bench/ansible/node-prep.yml uses) and python3-apt for its apt module, so the playbook
// runs inside the node with --connection=local.
const ANSIBLE_PACKAGES = ['ansible', 'python3-apt', 'python3-cffi-backend'];
// 'rocky-nm' is the Rocky-like node with NetworkManager running, as a Rocky install has it
// (nmcli included; Debian's package, the same upstream daemon and unit).
const ROCKY_NM_PACKAGES = [...ROCKY_PACKAGES, 'network-manager'];

// The cached root filesystem for a variant, built once with debootstrap (~1-2 min) and
// reused; the hash of the package list names it, so changing the list rebuilds it.
export async function ensureRootfs(variant: RootfsVariant = 'base', log: (m: string) => void = () => {}): Promise<string> {
  // debootstrap does not resolve virtual packages: python3-cryptography needs the
  // provider of python3-cffi-backend-api-* named explicitly.
  const pkgs = variant === 'cloud-init' ? [...BASE_PACKAGES, 'cloud-init', 'python3-cffi-backend'] : variant === 'rocky' ? [...BASE_PACKAGES, ...ROCKY_PACKAGES] : variant === 'rocky-nm' ? [...BASE_PACKAGES, ...ROCKY_NM_PACKAGES] : variant === 'fedora' ? FEDORA_PACKAGES : variant === 'ansible' ? [...BASE_PACKAGES, ...ANSIBLE_PACKAGES] : BASE_PACKAGES;
  // the rocky and fedora roots are also reshaped (rockify, fedorify): bump their LAYOUT when that changes
  const extra = variant === 'rocky' || variant === 'rocky-nm' ? ` ${ROCKY_LAYOUT}` : variant === 'fedora' ? ` ${FEDORA_LAYOUT}` : '';
  const suite = suiteOf(variant);
  const hash = createHash('sha256').update(`${suite} minbase ${pkgs.join(',')}${extra}`).digest('hex').slice(0, 12);
  const dir = path.join(cacheDir, `rootfs-${hash}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  return withCacheLock(`rootfs-${hash}`, async () => {
    if (existsSync(path.join(dir, '.complete'))) return dir; // built by the run we waited for
    const mirror = hostDebianMirror();
    log(`building the ${variant} root filesystem (Debian ${suite}) with debootstrap from ${mirror} (once; cached in ${dir})`);
    const tmp = `${dir}.tmp`;
    await fs.rm(tmp, { recursive: true, force: true });
    await sh('debootstrap', ['--variant=minbase', `--include=${pkgs.join(',')}`, suite, tmp, mirror], { timeoutMs: 20 * 60_000 });
    await isolate(tmp, variant);
    if (variant === 'rocky' || variant === 'rocky-nm') await rockify(tmp);
    if (variant === 'fedora') await fedorify(tmp);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(tmp, dir);
    await fs.writeFile(path.join(dir, '.complete'), `${pkgs.join(',')}\n`);
    return dir;
  });
}

// A node must reach nothing but the test hosts: no Debian sources, no stale package
// lists that would make apt try deb.debian.org; cloud-init (when present) is off until a
// scenario seeds it, and told not to rewrite sources or the network.
async function isolate(root: string, variant: RootfsVariant): Promise<void> {
  await fs.writeFile(path.join(root, 'etc/apt/sources.list'), '# emptied by the joinagent e2e harness: nodes reach only test hosts\n');
  await fs.rm(path.join(root, 'etc/apt/sources.list.d'), { recursive: true, force: true });
  await fs.mkdir(path.join(root, 'etc/apt/sources.list.d'));
  for (const sub of ['var/lib/apt/lists', 'var/cache/apt']) {
    for (const e of await fs.readdir(path.join(root, sub), { withFileTypes: true })) {
      if (e.isFile() && e.name !== 'lock') await fs.rm(path.join(root, sub, e.name));
    }
  }
  await sh('find', [path.join(root, 'var/cache/apt/archives'), '-name', '*.deb', '-delete']);
  await fs.writeFile(path.join(root, 'etc/machine-id'), '');
  if (variant === 'cloud-init') {
    await cloudInitDefaults(root);
    await fs.writeFile(path.join(root, 'etc/cloud/cloud-init.disabled'), 'enabled per scenario by the e2e harness\n');
  }
}

// What the image maker decides for cloud-init (written into every copy, so a change here
// needs no rebuild of the cached root): NoCloud only, network and apt sources left as the
// harness made them, and no locale module: minbase has no `locales` package, so
// cloud-init's default en_US.UTF-8 cannot be generated (a cloud image ships it).
async function cloudInitDefaults(root: string): Promise<void> {
  await fs.writeFile(
    path.join(root, 'etc/cloud/cloud.cfg.d/90-joinagent-e2e.cfg'),
    ['datasource_list: [NoCloud, None]', 'network: {config: disabled}', 'apt: {preserve_sources_list: true}', 'manage_etc_hosts: false', 'locale: false', ''].join('\n'),
  );
}

// A private, writable copy of the cached root for one node. A plain copy, not an
// overlay: a swap file needs a real filesystem (overlayfs has no bmap) and containerd's
// overlayfs snapshotter refuses an overlayfs upper dir.
// `linked` top-level directories are hard-linked instead (cp -al): only for trees nothing
// edits in place while a node runs (/usr: dpkg replaces files by rename, a new inode).
export async function copyRootfs(cached: string, dest: string, hostname: string, variant: RootfsVariant = 'base', linked: string[] = []): Promise<void> {
  await fs.rm(dest, { recursive: true, force: true });
  await fs.mkdir(path.dirname(dest), { recursive: true });
  if (!linked.length) await sh('cp', ['-a', '--reflink=auto', cached, dest]);
  else {
    await fs.mkdir(dest);
    for (const e of await fs.readdir(cached)) await sh('cp', [linked.includes(e) ? '-al' : '-a', path.join(cached, e), path.join(dest, e)]);
  }
  await fs.rm(path.join(dest, '.complete'), { force: true });
  await fs.writeFile(path.join(dest, 'etc/hostname'), `${hostname}\n`);
  await fs.writeFile(path.join(dest, 'etc/hosts'), `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  if (variant === 'cloud-init') await cloudInitDefaults(dest);
}
