import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Files } from '../../src/host/files.js';
import { BLOCK_BEGIN, BLOCK_END, COMMENT_PREFIX } from '../../src/host/markers.js';
import { paths } from '../../src/host/paths.js';

// A host as it was before joinagent, then as a host-prep run and a join leave it: every
// joinagent edit goes through files.write, so the backup manifest and copies are real.
export const ORIGINAL = {
  '/etc/fstab': 'UUID=6f1 / ext4 errors=remount-ro 0 1\n/swap.img\tnone\tswap\tsw\t0\t0\n',
  '/etc/hosts': '127.0.0.1\tlocalhost\n127.0.1.1\tk8s-w1\n\n::1 localhost ip6-localhost ip6-loopback\n',
  '/etc/containerd/config.toml': 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n',
  '/etc/selinux/config': 'SELINUX=enforcing\nSELINUXTYPE=targeted\n',
  '/etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
};

export const CREATED = ['/etc/modules-load.d/k8s.conf', '/etc/sysctl.d/k8s.conf', '/etc/crictl.yaml', '/etc/apt/sources.list.d/kubernetes.list', '/etc/containerd/certs.d/registry.k8s.io/hosts.toml'];

export const FOREIGN_HOSTS_LINE = '10.20.30.40\tbackup-server\n';

export async function buildPreparedHost(root: string, files: Files): Promise<void> {
  for (const [p, content] of Object.entries(ORIGINAL)) {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), content);
  }
  await files.write('/etc/fstab', ORIGINAL['/etc/fstab'].replace('/swap.img', `${COMMENT_PREFIX}/swap.img`));
  await files.write('/etc/hosts', ORIGINAL['/etc/hosts'].replace('127.0.1.1\tk8s-w1\n', '') + `${BLOCK_BEGIN}\n192.168.10.100 k8s-ctr\n192.168.10.101 k8s-w1\n${BLOCK_END}\n`);
  await files.write('/etc/modules-load.d/k8s.conf', 'overlay\nbr_netfilter\n');
  await files.write('/etc/sysctl.d/k8s.conf', 'net.ipv4.ip_forward = 1\n');
  await files.write('/etc/crictl.yaml', 'runtime-endpoint: unix:///run/containerd/containerd.sock\n');
  await files.write('/etc/apt/sources.list.d/kubernetes.list', 'deb [signed-by=/etc/apt/keyrings/kubernetes.gpg] https://pkgs.k8s.io/core:/stable:/v1.32/deb/ /\n');
  await files.write('/etc/containerd/certs.d/registry.k8s.io/hosts.toml', 'server = "https://registry.k8s.io"\n');
  await files.write('/etc/containerd/config.toml', ORIGINAL['/etc/containerd/config.toml'].replace('false', 'true'));
  await files.write('/etc/selinux/config', ORIGINAL['/etc/selinux/config'].replace('enforcing', 'permissive'));
  // the join
  await files.mkdir(paths.stateDir, 0o700);
  await files.write(paths.joinConfig, 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n', { mode: 0o600 });
  const state = {
    version: 1,
    updatedAt: '2025-01-01T10:00:00.000Z',
    steps: {},
    published: { joined: true, nodeIP: '192.168.10.101', node: { ready: true } },
    joinedAt: '2025-01-01T10:03:00.000Z',
    changeLog: [
      { step: 'host-firewall', at: '2025-01-01T10:00:01.000Z', changes: ['systemctl disable --now firewalld'] },
      { step: 'kube-packages', at: '2025-01-01T10:01:00.000Z', changes: ['install kubelet=1.32.11-1.1 kubeadm=1.32.11-1.1 kubectl=1.32.11-1.1'] },
      { step: 'containerd-install', at: '2025-01-01T10:00:30.000Z', changes: ['containerd: absent -> 1.6.20'] },
    ],
  };
  await files.write(paths.state, JSON.stringify(state, null, 2) + '\n', { mode: 0o600, backup: false });
}

// Edits an operator makes after joinagent: a hosts line (reset must keep it) and a
// config.toml tweak (reset must keep the file and say so).
export function foreignEdits(root: string): void {
  appendFileSync(path.join(root, '/etc/hosts'), FOREIGN_HOSTS_LINE);
  writeFileSync(path.join(root, '/etc/containerd/config.toml'), 'version = 2\n# tuned by ops\n');
}
