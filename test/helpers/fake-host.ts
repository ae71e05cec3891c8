import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Builds a host tree under `root` that mimics what snapshot reads from /proc, /sys and
// /etc on a node: a few processes with namespaces and sockets, network tables, mounts,
// sysctls, cgroups and the kubelet's files. `joined` adds what a join leaves behind.
export function buildFakeHost(root: string, opts: { joined: boolean }): void {
  const put = (p: string, content: string, mode?: number): void => {
    const abs = path.join(root, p);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    if (mode !== undefined) chmodSync(abs, mode);
  };
  const link = (p: string, target: string): void => {
    const abs = path.join(root, p);
    mkdirSync(path.dirname(abs), { recursive: true });
    symlinkSync(target, abs);
  };
  const proc = (pid: number, comm: string, argv: string[], ns: Record<string, string>, sockets: string[] = []): void => {
    put(`/proc/${pid}/comm`, `${comm}\n`);
    put(`/proc/${pid}/cmdline`, argv.length ? argv.join('\0') + '\0' : '');
    for (const [type, inode] of Object.entries(ns)) link(`/proc/${pid}/ns/${type}`, `${type}:[${inode}]`);
    sockets.forEach((inode, i) => link(`/proc/${pid}/fd/${i + 3}`, `socket:[${inode}]`));
    link(`/proc/${pid}/fd/0`, '/dev/null');
  };
  const hostNs = { net: '4026531840', mnt: '4026531841', uts: '4026531838' };
  proc(1, 'systemd', ['/sbin/init'], hostNs);
  proc(2, 'kthreadd', [], hostNs); // a kernel thread: no command line
  proc(310, 'sshd', ['sshd: /usr/sbin/sshd -D'], hostNs, ['7001']);
  proc(400, 'containerd', ['/usr/bin/containerd'], hostNs, ['7002']);
  const tcp = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode', sock(0, '00000000:0016', '0A', 7001), sock(1, '0100007F:A1B2', '0A', 7002)];
  const mounts = ['22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw', '23 22 0:5 / /proc rw,nosuid shared:2 - proc proc rw'];
  put('/etc/sysconfig/kubelet', 'KUBELET_EXTRA_ARGS=\n');
  put('/run/containerd/containerd.sock', '');
  put('/run/containerd/io.containerd.runtime.v2.task/.keep', '');
  if (opts.joined) {
    proc(500, 'kubelet', ['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml'], hostNs, ['8001', '8002']);
    proc(600, 'kube-proxy', ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf'], hostNs, ['8003']);
    proc(610, 'pause', ['/pause'], { net: '4026532300', mnt: '4026532301', uts: '4026532302' });
    tcp.push(sock(2, '00000000:280A', '0A', 8001), sock(3, '0100007F:2808', '0A', 8002), sock(4, '0100007F:2799', '0A', 8003));
    mounts.push('40 22 0:40 / /var/lib/kubelet/pods/0c6a/volumes/kubernetes.io~projected/kube-api-access-x rw,relatime shared:20 - tmpfs tmpfs rw,size=3900k');
    put('/etc/kubernetes/kubelet.conf', 'apiVersion: v1\nkind: Config\n', 0o600);
    put('/etc/kubernetes/pki/ca.crt', '-----BEGIN CERTIFICATE-----\n');
    mkdirSync(path.join(root, '/etc/kubernetes/manifests'), { recursive: true });
    put('/var/lib/kubelet/config.yaml', 'kind: KubeletConfiguration\n');
    put('/var/lib/kubelet/kubeadm-flags.env', 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=198.18.0.11"\n');
    mkdirSync(path.join(root, '/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice'), { recursive: true });
  }
  put('/proc/net/tcp', tcp.join('\n') + '\n');
  put('/proc/net/tcp6', tcp[0] + '\n' + sock(0, '00000000000000000000000000000000:0016', '0A', 7001) + '\n');
  put('/proc/net/udp', tcp[0] + '\n');
  put('/proc/self/mountinfo', mounts.join('\n') + '\n');
  put('/proc/net/if_inet6', '00000000000000000000000000000001 01 80 10 80       lo\n');
  put('/proc/net/fib_trie', 'Local:\n  +-- 198.18.0.0/24 2 0 2\n     |-- 198.18.0.11\n        /32 host LOCAL\n');
  put('/sys/class/net/eth0/operstate', 'up\n');
  put('/sys/class/net/eth0/mtu', '1500\n');
  put('/sys/class/net/eth0/address', '02:00:00:00:00:11\n');
  mkdirSync(path.join(root, '/sys/fs/cgroup/system.slice/containerd.service'), { recursive: true });
  mkdirSync(path.join(root, '/sys/fs/cgroup/user.slice/user-0.slice/session-4.scope'), { recursive: true });
  put('/proc/sys/net/ipv4/ip_forward', opts.joined ? '1\n' : '0\n');
  put('/proc/sys/net/ipv4/ip_local_port_range', '32768\t60999\n');
  put('/proc/sys/kernel/random/boot_id', 'b7d1c2a0-0000-4000-8000-000000000001\n');
  put('/proc/sys/fs/file-nr', opts.joined ? '2400\t0\t9223372036854775807\n' : '1900\t0\t9223372036854775807\n');
  put('/proc/sys/vm/compact_memory', '', 0o200); // write-only: must be skipped
}

function sock(sl: number, local: string, state: string, inode: number): string {
  const remote = local.length > 20 ? '00000000000000000000000000000000:0000' : '00000000:0000';
  return `   ${sl}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0`;
}
