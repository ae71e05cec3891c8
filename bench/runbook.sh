#!/bin/sh
# The runbook (RUNBOOK.md, sections 1-2) as the shell script an operator keeps, translated
# to Debian 12 with the runbook's own commands: `>>` /etc/hosts, `sed -i '/swap/d'`,
# `containerd config default >`, apt instead of dnf. Only what an offline test world
# needs differs: the local repository and the registry mirror (containerd's config_path).
# usage: runbook.sh REPO_URL KEY_FILE REGISTRY(host:port) CONTROL_PLANE_IP
set -e
REPO_URL=$1 KEY_FILE=$2 REGISTRY=$3 CTR_IP=$4
V=1.32.11-1.1
export DEBIAN_FRONTEND=noninteractive

# time
timedatectl set-local-rtc 0; timedatectl set-timezone Etc/UTC; timedatectl set-ntp true || true
# SELinux: not on Debian. firewall: ufw when present
systemctl disable --now ufw 2>/dev/null || true
# swap (in a container /proc/swaps lists the host's swap, other nodes' included, which only
# the host can turn off: swapoff -a then exits 32 although this node has none)
swapoff -a || true; sed -i '/swap/d' /etc/fstab
# modules (built into some kernels: modprobe then fails, the runbook carries on)
modprobe overlay || true; modprobe br_netfilter || true
cat <<EOT > /etc/modules-load.d/k8s.conf
overlay
br_netfilter
EOT
# sysctl
cat <<EOT > /etc/sysctl.d/k8s.conf
net.bridge.bridge-nf-call-iptables  = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward                 = 1
EOT
# (in a container kernel.* keys of other files are read-only: sysctl --system exits 1)
sysctl --system >/dev/null 2>&1 || true
# hosts: drop 127.0.1.1/127.0.2.1, append the cluster names
sed -i '/^127\.0\.[12]\.1/d' /etc/hosts
echo "$CTR_IP k8s-ctr" >> /etc/hosts
# repository: keyring under /etc/apt/keyrings, signed-by=
mkdir -p -m 755 /etc/apt/keyrings
gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg "$KEY_FILE"
echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] $REPO_URL /" > /etc/apt/sources.list.d/kubernetes.list
apt-get update -q >/dev/null
# containerd
apt-get install -y -q containerd >/dev/null
mkdir -p /etc/containerd
containerd config default > /etc/containerd/config.toml
sed -i 's/SystemdCgroup = false/SystemdCgroup = true/g' /etc/containerd/config.toml
sed -i 's#sandbox_image = ".*"#sandbox_image = "registry.k8s.io/pause:3.10"#' /etc/containerd/config.toml
sed -i 's#config_path = ""#config_path = "/etc/containerd/certs.d"#' /etc/containerd/config.toml
mkdir -p /etc/containerd/certs.d/registry.k8s.io
cat <<EOT > /etc/containerd/certs.d/registry.k8s.io/hosts.toml
server = "https://registry.k8s.io"
[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
EOT
systemctl enable --now containerd
systemctl restart containerd
# kube packages, held
apt-get install -y -q kubelet=$V kubeadm=$V kubectl=$V >/dev/null
apt-mark hold kubelet kubeadm kubectl >/dev/null
systemctl enable --now kubelet
# crictl
cat <<EOT > /etc/crictl.yaml
runtime-endpoint: unix:///run/containerd/containerd.sock
image-endpoint: unix:///run/containerd/containerd.sock
EOT
# images (crictl pull; ctr with the same hosts directory here, the test crictl is a stand-in)
for img in registry.k8s.io/kube-proxy:v1.32.11 registry.k8s.io/pause:3.10; do
  ctr -n k8s.io images pull --hosts-dir /etc/containerd/certs.d "$img" >/dev/null
done
