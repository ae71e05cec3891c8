import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { FakeProc, tempRoot, debianFacts, rockyFacts, testConfig } from '../../helpers/fakes.js';
import type { HostFacts } from '../../../src/host/facts.js';
import type { LoadedConfig } from '../../../src/config/types.js';

export const FIXTURES = path.join(import.meta.dirname, '../../fixtures');

export const MESSY_FSTAB = `# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=0a3407de-014b-458b-b5c1-848e92a327a3 /               ext4    errors=remount-ro 0       1
# swap was on /dev/sda5 during installation
UUID=5b2c1ee7-3e0b-4a3c-9c0d-0c3f1d1e2f3a none            swap    sw              0       0
/swapfile	none	swap	defaults	0	0
/dev/sdb1       /mnt/swapdata   ext4    defaults        0       2
#/dev/sdc1 none swap sw 0 0
`;

export const MESSY_HOSTS = `127.0.0.1	localhost
127.0.1.1	k8s-w1.lab.local	k8s-w1
127.0.2.1	other-host
10.0.0.5	nas.lab.local nas   # the NAS

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
`;

export interface SimHost {
  root: string;
  files: ReturnType<typeof tempRoot>['files'];
  proc: FakeProc;
  facts: HostFacts;
  config: LoadedConfig;
  cleanup: () => void;
  /** Kube/containerd versions the simulated repository offers. */
  repo: Record<string, string[]>;
  installed: Map<string, string>;
  held: Set<string>;
}

// A whole host in a temp root plus a FakeProc whose commands change that root the way
// the real tools would (swapoff rewrites /proc/swaps, modprobe creates /proc/sys/net/
// bridge, apt-get install records versions), so steps can be run twice for real.
export function simulateHost(family: 'debian' | 'rhel'): SimHost {
  const t = tempRoot(`joinagent-sim-${family}-`);
  const p = (h: string): string => path.join(t.root, h);
  const put = (h: string, text: string): void => {
    mkdirSync(path.dirname(p(h)), { recursive: true });
    writeFileSync(p(h), text);
  };
  const read = (h: string): string => (existsSync(p(h)) ? readFileSync(p(h), 'utf8') : '');
  put('/etc/os-release', readFileSync(path.join(FIXTURES, 'os-release', family === 'debian' ? 'debian-12' : 'rocky-10'), 'utf8'));
  put('/etc/fstab', MESSY_FSTAB);
  put('/etc/hosts', MESSY_HOSTS);
  put('/swapfile', '');
  put('/proc/swaps', 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile                               file\t\t1048572\t\t0\t\t-2\n');
  put('/proc/filesystems', family === 'debian' ? 'nodev\tsysfs\nnodev\toverlay\n\text4\n' : 'nodev\tsysfs\n\txfs\n');
  put('/proc/sys/net/ipv4/ip_forward', '0\n');
  if (family === 'debian') {
    // br_netfilter built in (as in the nspawn test nodes): keys exist, values 0
    put('/proc/sys/net/bridge/bridge-nf-call-iptables', '0\n');
    put('/proc/sys/net/bridge/bridge-nf-call-ip6tables', '0\n');
    // the distro's lists from an earlier apt-get update (a host that has been used)
    put('/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages', 'Package: base-files\n');
  } else {
    put('/sys/fs/selinux/enforce', '1');
    put('/etc/selinux/config', '# This file controls the state of SELinux on the system.\nSELINUX=enforcing\n# SELINUXTYPE= can take one of these values:\nSELINUXTYPE=targeted\n');
  }
  put('/srv/keys/kubernetes.gpg', '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBGTestKey\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n');
  put('/srv/keys/docker.gpg', '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBDockerKey\n=efgh\n-----END PGP PUBLIC KEY BLOCK-----\n');

  const time = { tz: 'Etc/UTC', rtc: true, ntp: false };
  const units = new Map([['swapfile.swap', 'loaded'], ['dev-disk-by\\x2duuid-5b2c1ee7.swap', 'loaded']]);
  const fw = { active: true, enabled: true };
  let kubeletEnabled = false;
  const repo: Record<string, string[]> =
    family === 'debian'
      ? { kubelet: ['1.32.10-1.1', '1.32.11-1.1'], kubeadm: ['1.32.10-1.1', '1.32.11-1.1'], kubectl: ['1.32.11-1.1'], 'cri-tools': ['1.32.0-1.1'], 'containerd.io': ['1.7.27-1', '2.1.5-1'], containerd: ['1.6.20~ds1-1+b1'], runc: ['1.1.5+ds1-1+deb12u1'] }
      : { kubelet: ['1.32.11-150500.1.1'], kubeadm: ['1.32.11-150500.1.1'], kubectl: ['1.32.11-150500.1.1'], 'cri-tools': ['1.32.0-150500.1.1'], 'containerd.io': ['2.1.5-1.el10'], 'python3-dnf-plugin-versionlock': ['4.3.1-1.el10'] };
  const installed = new Map<string, string>();
  const held = new Set<string>();
  const proc = new FakeProc();

  proc.on('timedatectl show', () => ({ stdout: `Timezone=${time.tz}\nLocalRTC=${time.rtc ? 'yes' : 'no'}\nCanNTP=yes\nNTP=${time.ntp ? 'yes' : 'no'}\nNTPSynchronized=${time.ntp ? 'yes' : 'no'}\n` }));
  proc.on('timedatectl set-local-rtc 0', () => ((time.rtc = false), {}));
  proc.on('timedatectl set-ntp true', () => ((time.ntp = true), {}));
  proc.on(/^timedatectl set-timezone /, (c) => ((time.tz = c.args[c.args.length - 1]), {}));
  proc.on('setenforce 0', () => (put('/sys/fs/selinux/enforce', '0'), {}));
  proc.on(/^systemctl show firewalld/, () => (family === 'rhel' ? { stdout: `LoadState=loaded\nActiveState=${fw.active ? 'active' : 'inactive'}\nUnitFileState=${fw.enabled ? 'enabled' : 'disabled'}\n` } : { stdout: 'LoadState=not-found\nActiveState=inactive\nUnitFileState=\n' }));
  proc.on('systemctl disable --now firewalld', () => ((fw.active = fw.enabled = false), {}));
  if (family === 'debian') {
    proc.on('ufw status', () => ({ stdout: `Status: ${fw.active ? 'active' : 'inactive'}\n` }));
    proc.on('ufw disable', () => ((fw.active = false), { stdout: 'Firewall stopped and disabled on system startup\n' }));
  }
  proc.on(/^systemctl list-units --type swap/, () => ({ stdout: [...units].map(([u, s]) => `${u} ${s} ${s === 'masked' ? 'inactive dead' : 'active active'} /x`).join('\n') + '\n' }));
  proc.on(/^systemctl mask /, (c) => (units.set(c.args[1], 'masked'), {}));
  proc.on(/^swapoff /, (c) => {
    const lines = read('/proc/swaps').split('\n');
    put('/proc/swaps', lines.filter((l, i) => i === 0 || !l.startsWith(c.args[0] + ' ')).join('\n'));
    return {};
  });
  proc.on('modprobe overlay', () => (put('/proc/filesystems', read('/proc/filesystems') + 'nodev\toverlay\n'), {}));
  proc.on('modprobe br_netfilter', () => {
    put('/proc/sys/net/bridge/bridge-nf-call-iptables', '0\n');
    put('/proc/sys/net/bridge/bridge-nf-call-ip6tables', '0\n');
    return {};
  });
  proc.on(/^sysctl -w /, (c) => {
    const [k, v] = c.args[1].split('=');
    const f = `/proc/sys/${k.replace(/\./g, '/')}`;
    if (!existsSync(p(f))) return { exitCode: 255, stderr: `sysctl: cannot stat /proc/sys/${k}: No such file or directory` };
    put(f, v + '\n');
    return {};
  });
  proc.on('systemctl is-enabled kubelet', () => (kubeletEnabled ? { stdout: 'enabled\n' } : { exitCode: 1, stdout: 'disabled\n' }));
  proc.on('systemctl enable --no-reload kubelet', () => ((kubeletEnabled = true), {}));
  const reposWritten = (): boolean => (family === 'debian' ? existsSync(p('/etc/apt/sources.list.d/kubernetes.list')) : existsSync(p('/etc/yum.repos.d/kubernetes.repo')));
  const install = (specs: string[], sep: RegExp): { exitCode?: number; stderr?: string } => {
    for (const s of specs) {
      const m = sep.exec(s);
      if (!m || !repo[m[1]]?.includes(m[2])) return { exitCode: 100, stderr: `E: Version '${s}' not found` };
      installed.set(m[1], m[2]);
    }
    return {};
  };
  if (family === 'debian') {
    proc.on(/^dpkg-query -W/, (c) => {
      const names = c.args.slice(2);
      const found = names.filter((n) => installed.has(n));
      return { exitCode: found.length === names.length ? 0 : 1, stdout: found.map((n) => `${n}\t${installed.get(n)}\t${held.has(n) ? 'h' : 'i'}i \n`).join('') };
    });
    proc.on(/^apt-mark hold /, (c) => (c.args.slice(1).forEach((n) => held.add(n)), {}));
    // apt answers from the metadata of its last update, which may be stale
    let cache: Record<string, string[]> = {};
    proc.on(/^apt-get update/, (c) => {
      const only = c.args.find((a) => a.startsWith('Dir::Etc::sourcelist='))?.slice('Dir::Etc::sourcelist='.length);
      if (only === undefined) return (cache = reposWritten() ? structuredClone(repo) : {}), {};
      // as apt: the file must be a sources list; without List-Cleanup=0 the lists of every
      // source not in it are deleted as obsolete
      if (!existsSync(only) || !/\.list$/.test(only)) return { exitCode: 100, stderr: `E: Malformed entry 1 in list file ${only}` };
      if (!c.args.includes('APT::Get::List-Cleanup=0')) cache = {};
      const source = readFileSync(only, 'utf8').includes('docker') ? 'docker' : 'kubernetes';
      for (const [name, versions] of Object.entries(repo)) if ((name.startsWith('containerd') ? 'docker' : 'kubernetes') === source) cache[name] = [...versions];
      return {};
    });
    // like apt-cache: one block of rows per name asked for, newest first
    proc.on(/^apt-cache madison /, (c) => ({ stdout: c.args.slice(1).flatMap((n) => (cache[n] ?? []).map((v) => ` ${n} | ${v} | http://repo.test Packages\n`).reverse()).join('') }));
    proc.on(/^apt-get install /, (c) => install(c.args.filter((a) => a.includes('=') && !a.includes('::')), /^([^=]+)=(.+)$/));
  } else {
    proc.on(/^rpm -q /, (c) => ({ exitCode: 1, stdout: c.args.slice(3).map((n) => (installed.has(n) ? `${n}\t${installed.get(n)}\n` : `package ${n} is not installed\n`)).join('') }));
    proc.on(/^dnf makecache/, () => ({}));
    proc.on(/^dnf repoquery /, (c) => {
      const names = c.args.slice(c.args.indexOf('--queryformat') + 2);
      return { stdout: reposWritten() ? names.flatMap((name) => (repo[name] ?? []).map((v) => `${name}\t${v}\n\n`)).join('') : '' };
    });
    proc.on(/^dnf install /, (c) => install(c.args.filter((a) => !a.startsWith('-')).slice(1), /^(.+?)-(\d.*)$/));
    // dnf 4's versionlock plugin: one NEVRA pattern a line in its list file
    const locklist = '/etc/dnf/plugins/versionlock.list';
    proc.on(/^dnf versionlock add /, (c) => {
      if (!installed.has('python3-dnf-plugin-versionlock')) return { exitCode: 2, stderr: 'No such command: versionlock.' };
      const lines = c.args.filter((a) => !a.startsWith('-')).slice(2).map((spec) => { const m = /^(.+?)-(\d.*)$/.exec(spec)!; held.add(m[1]); return `${m[1]}-0:${m[2]}.*`; });
      put(locklist, read(locklist) + lines.map((l) => l + '\n').join(''));
      return {};
    });
    proc.on(/^dnf versionlock delete /, (c) => {
      const names = c.args.filter((a) => !a.startsWith('-')).slice(2);
      names.forEach((n) => held.delete(n));
      put(locklist, read(locklist).split('\n').filter((l) => l && !names.some((n) => l.startsWith(`${n}-0:`))).map((l) => l + '\n').join(''));
      return {};
    });
  }
  const config = testConfig({
    host: { ntp: true, timezone: 'Asia/Seoul', selinux: 'permissive', firewall: 'disable', firewallPorts: ['10250/tcp'], swap: 'disable', packageLockWait: 120_000, hosts: [{ ip: '192.168.10.100', names: ['k8s-ctr'] }, { ip: '192.168.10.101', names: ['k8s-w1'] }] },
    containerd: { source: 'docker', version: '2.1.5', registryMirrors: {} },
    repositories: { kubernetes: { key: '/srv/keys/kubernetes.gpg' }, docker: { key: '/srv/keys/docker.gpg' } },
  });
  const cleanup = (): void => rmSync(t.root, { recursive: true, force: true });
  return { root: t.root, files: t.files, proc, facts: family === 'debian' ? debianFacts : rockyFacts, config, cleanup, repo, installed, held };
}
