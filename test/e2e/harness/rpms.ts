import { promises as fs } from 'node:fs';
import path from 'node:path';
import { keyUserId, withSigningKey, type KeyName } from './gpgkey.js';
import type { DebSpec } from './debs.js';
import { sh } from './sh.js';

// Test rpms built with rpmbuild, signed with the test repository key (rpmsign), in
// repositories made by createrepo_c with a signed repomd.xml: what dnf checks with
// gpgcheck=1 / repo_gpgcheck=1 on a RHEL-family host.

export interface RpmSpec {
  name: string;
  version: string;
  release: string;
  arch: 'x86_64' | 'noarch';
  summary: string;
  requires?: string[];
  /** Weak dependencies: dnf installs them unless install_weak_deps=False. */
  recommends?: string[];
  provides?: string[];
  /** Docker's containerd.io obsoletes the distribution's containerd and runc. */
  obsoletes?: string[];
  files: RpmFile[];
  post?: string;
}

export interface RpmFile {
  path: string;
  /** Host file to copy; null: an empty file. */
  src: string | null;
  mode: number;
  /** %config(noreplace): kept when the admin changed it. */
  config?: boolean;
  /** A text file whose @VERSION@ becomes the upstream version (the stand-ins). */
  template?: boolean;
}

// Debian names in the stand-ins' Depends and their RHEL-family names (upstream's kubelet
// rpm requires iproute and util-linux where the .deb names iproute2 and mount). The
// stand-ins' dependency lists are written once, in debs.ts; extend this map with them.
export const DEB_TO_RPM: Record<string, string> = { iproute2: 'iproute', mount: 'util-linux', 'kubernetes-cni': 'kubernetes-cni', iptables: 'iptables', conntrack: 'conntrack-tools' };

// "kubelet (>= 1.19.0), kubectl (>= 1.13.0), mount" -> ["kubelet >= 1.19.0", "kubectl >= 1.13.0", "util-linux"]
export function rpmRequires(depends: string | undefined): string[] {
  if (!depends) return [];
  // mount and util-linux are both util-linux on RHEL: upstream's rpm requires it once
  return [...new Set(depends.split(',').map((d) => d.trim()).filter(Boolean).map((d) => {
    const m = /^([^\s(|]+)\s*(?:\(\s*([<>=]+)\s*([^)]+)\))?/.exec(d)!;
    const name = DEB_TO_RPM[m[1]] ?? m[1];
    return m[2] ? `${name} ${m[2].replace(/^>>$/, '>').replace(/^<<$/, '<')} ${m[3].trim()}` : name;
  }))];
}

/** pkgs.k8s.io's rpm naming for a Debian stand-in: 1.32.11-1.1 -> 1.32.11 / 150500.1.1. */
export function kubeRpmFromDeb(deb: DebSpec): RpmSpec {
  const upstream = deb.version.replace(/-[^-]+$/, '');
  return {
    name: deb.name,
    version: upstream,
    release: '150500.1.1',
    arch: 'x86_64',
    summary: deb.description,
    requires: rpmRequires(deb.depends),
    // the rpm has no .kubelet-keep placeholders (the spec adds them for debbuild only)
    files: Object.entries(deb.files).filter(([p]) => !p.endsWith('/.kubelet-keep')).map(([p, [src, mode]]) => ({ path: p, src, mode, template: true })),
    post: deb.postinst?.replace(/^#!.*\n/, ''),
  };
}

// One rpm into outDir; files with @VERSION@ get the upstream version, as in the .debs.
export async function buildRpm(spec: RpmSpec, outDir: string): Promise<string> {
  const top = await fs.mkdtemp(path.join(outDir, `.${spec.name}-`));
  try {
    const stage = path.join(top, 'stage');
    await fs.mkdir(stage, { recursive: true });
    for (const f of spec.files) {
      const target = path.join(stage, f.path);
      await fs.mkdir(path.dirname(target), { recursive: true });
      if (f.src === null) await fs.writeFile(target, '');
      else if (f.template && !(await fs.readFile(f.src)).includes(0)) await fs.writeFile(target, (await fs.readFile(f.src, 'utf8')).replaceAll('@VERSION@', spec.version));
      else await fs.copyFile(f.src, target);
      await fs.chmod(target, f.mode);
    }
    const lines = [
      `Name: ${spec.name}`,
      `Version: ${spec.version}`,
      `Release: ${spec.release}`,
      `Summary: ${spec.summary}`,
      'License: Apache-2.0',
      `BuildArch: ${spec.arch}`,
      // the rpm database of a test node holds only what the base rpm stands for
      'AutoReqProv: no',
      ...(spec.requires ?? []).map((r) => `Requires: ${r}`),
      ...(spec.recommends ?? []).map((r) => `Recommends: ${r}`),
      ...(spec.provides ?? []).map((r) => `Provides: ${r}`),
      ...(spec.obsoletes ?? []).map((r) => `Obsoletes: ${r}`),
      '',
      '%description',
      `${spec.summary} (joinagent e2e)`,
      '',
      '%install',
      `mkdir -p %{buildroot} && cp -a ${stage}/. %{buildroot}/`,
      '',
      '%files',
      ...spec.files.map((f) => `%attr(${f.mode.toString(8)},root,root) ${f.config ? '%config(noreplace) ' : ''}${f.path}`),
      ...(spec.post ? ['', '%post', spec.post] : []),
      '',
    ];
    const specFile = path.join(top, `${spec.name}.spec`);
    await fs.writeFile(specFile, lines.join('\n'));
    const defs = { _topdir: top, _binary_payload: 'w1.gzdio', __os_install_post: '%{nil}', debug_package: '%{nil}', _build_id_links: 'none', _rpmdir: outDir, _rpmfilename: '%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' };
    await sh('rpmbuild', [...Object.entries(defs).flatMap(([k, v]) => ['--define', `${k} ${v}`]), '-bb', specFile], { timeoutMs: 10 * 60_000 });
    return path.join(outDir, `${spec.name}-${spec.version}-${spec.release}.${spec.arch}.rpm`);
  } finally {
    await fs.rm(top, { recursive: true, force: true });
  }
}

// Signs rpms in place with a test key (what gpgcheck=1 verifies): the repository key,
// or 'other' for packages that must fail the check.
export async function signRpms(files: string[], key: KeyName = 'repo'): Promise<void> {
  if (!files.length) return;
  // Debian's rpm names gpg2 (%__gpg), which Debian 12 no longer ships: name gpg itself
  await withSigningKey((gpg) => sh('rpmsign', ['--define', `_gpg_name ${keyUserId(key)}`, '--define', `_gpg_path ${gpg.env.GNUPGHOME}`, '--define', '__gpg /usr/bin/gpg', '--define', '_gpg_sign_cmd_extra_args --pinentry-mode loopback --passphrase ""', '--addsign', ...files], { env: gpg.env, timeoutMs: 5 * 60_000 }), key);
}

// repodata/ for dir (createrepo_c), repomd.xml signed by `key` (repomd.xml.asc, what
// repo_gpgcheck=1 verifies) and that key beside it as pkgs.k8s.io serves it (repomd.xml.key).
export async function createSignedRepo(dir: string, key: KeyName = 'repo'): Promise<void> {
  await sh('createrepo_c', ['-q', '--general-compress-type=gz', dir], { timeoutMs: 5 * 60_000 });
  const repomd = path.join(dir, 'repodata/repomd.xml');
  await fs.rm(`${repomd}.asc`, { force: true });
  await withSigningKey(async (gpg) => {
    await sh('gpg', [...gpg.args, '--armor', '--detach-sign', '-o', `${repomd}.asc`, repomd], { env: gpg.env });
    await fs.copyFile(gpg.publicKey, `${repomd}.key`);
  }, key);
}
