import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { diffHashes, ensureBinary, hashEtc, k8sImages } from '../harness/agent.js';
import { assertJoined, EXPECTED_IMAGES } from '../harness/assertions.js';
import { KUBERNETES_CNI_RPM } from '../harness/rpm-deps.js';
import { cleanupAll } from '../harness/cleanup.js';
import { dropPort } from '../harness/net.js';
import type { Node } from '../harness/node.js';
import { CONTAINERD_IO_RPM, KUBE_RPM_RELEASE } from '../harness/rocky.js';
import { startRockyWorld, type RockyWorld } from '../harness/rocky-world.js';
import { REPO_KEY_IN_NODE } from '../harness/world.js';
import { log, scenario } from '../harness/scenario.js';

// The runbook's own platform: a node that behaves as Rocky Linux 10 (real dnf 4, rpm and
// its database, dnf-plugins-core, firewalld running, no apt), its repositories laid out as
// pkgs.k8s.io's and Docker's, the runbook's config (containerd.io, firewall: disable).
// A second node joins with firewall: open-ports, and diagnoses the seed's incident.
let w: RockyWorld | undefined;
let w2: RockyWorld | undefined;
let binary = '';
const CONFIG = '/root/joinagent.yaml';
const KUBE = `1.32.11-${KUBE_RPM_RELEASE}`;
const NEWER = `1.32.12-${KUBE_RPM_RELEASE}`;

before(async () => {
  binary = await ensureBinary(log);
  w = await startRockyWorld({ slot: 14, log });
});
after(cleanupAll);

const run = (node: Node, cmd = 'run') => node.exec(['/root/joinagent', cmd, ...(cmd === 'run' ? ['--once'] : []), '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 8 * 60_000 });
const rpmVersion = async (node: Node, name: string): Promise<string> => (await node.exec(['rpm', '-q', '--qf', '%{VERSION}-%{RELEASE}', name], { allowFailure: true })).stdout.trim();
const rpmState = async (node: Node): Promise<string> => (await node.exec(['sh', '-c', "rpm -qa --qf '%{NAME}-%{VERSION}-%{RELEASE} %{INSTALLTIME}\\n' | sort"])).stdout;
const packagesOnly = (node: Node, cmd = 'run') => node.exec(['/root/joinagent', cmd, ...(cmd === 'run' ? ['--once'] : []), '--only', 'packages', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 8 * 60_000 });
const exists = async (node: Node, p: string): Promise<boolean> => (await node.exec(['test', '-e', p], { allowFailure: true })).exitCode === 0;
// the agent's JSON log lines, messages unescaped
const logText = (r: { stdout: string; stderr: string }): string => `${r.stdout}\n${r.stderr}`.split('\n').map((l) => (l.startsWith('{') ? Object.values(JSON.parse(l) as Record<string, unknown>).filter((v) => typeof v === 'string').join(' ') : l)).join('\n');
const notChanged = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string; step?: string; state?: string }).filter((e) => e.event === 'step-end' && e.state !== 'ok' && e.state !== 'skipped').map((e) => `${e.step}=${e.state}`);

async function joinOnce(world: RockyWorld): Promise<string> {
  const { node } = world;
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, world.config, 0o600);
  const r = await run(node);
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${out}`);
  return out;
}

scenario('seed-rocky: a repository key that is missing or did not sign the packages stops the packages step naming the repository and the key; nothing installed, rpm\'s keyring as before', async () => {
  const { node, repos } = w!;
  await node.copyIn(binary, '/root/joinagent', 0o755);
  const before = await rpmState(node);
  const keyedBy = (url: string): string => w!.config.replace(`kubernetes: { url: "${repos.kubeUrl}", key: "${REPO_KEY_IN_NODE}" }`, `kubernetes: { url: "${repos.kubeUrl}", key: "${url}" }`);
  assert.notEqual(keyedBy('x'), w!.config);

  // the key URL answers 404: stopped before anything is written
  await node.writeFile(CONFIG, keyedBy(`${repos.url}keys/missing.asc`), 0o600);
  let r = await packagesOnly(node);
  assert.equal(r.exitCode, 1, logText(r));
  assert.match(logText(r), /repositories\.kubernetes\.key: repository key http:\/\/\S+\/keys\/missing\.asc: HTTP 404/);
  assert.equal(await exists(node, '/etc/yum.repos.d/kubernetes.repo'), false, 'no repository file written');

  // a valid key that did not sign the packages: real dnf refuses them
  await node.writeFile(CONFIG, keyedBy(repos.otherKeyUrl), 0o600);
  r = await packagesOnly(node);
  assert.equal(r.exitCode, 1, logText(r));
  // dnf 4 -q says "Public key for X.rpm is not installed" for each package (the key it imported did not verify them)
  assert.match(logText(r), /packages: dnf install: repository "kubernetes" \([^)]*kubelet-1\.32\.11-150500\.1\.1\.x86_64[^)]*\) does not verify with the key in \/etc\/pki\/rpm-gpg\/kubernetes\.asc \(repositories\.kubernetes\.key: http:\/\/\S+\/keys\/other\.asc\): Public key for \S+ is not installed; nothing was installed/);
  assert.doesNotMatch(logText(r), /not reachable/, 'not mistaken for a network failure');
  assert.equal(await rpmState(node), before, 'no package installed and no key left in rpm\'s keyring');
  assert.equal(await exists(node, '/etc/pki/rpm-gpg/kubernetes.asc'), false, 'the wrong key is not kept: the next run fetches it again');

  // repo_gpgcheck on (a hardened dnf.conf): repomd.xml fails to verify, named as such
  await node.sh("sed -i 's/^\\[main\\]$/[main]\\nrepo_gpgcheck=1/' /etc/dnf/dnf.conf && rm -rf /var/cache/dnf/kubernetes-*");
  try {
    r = await packagesOnly(node);
    assert.equal(r.exitCode, 1, logText(r));
    assert.match(logText(r), /repository "kubernetes" does not verify with the key in \/etc\/pki\/rpm-gpg\/kubernetes\.asc \(repositories\.kubernetes\.key: \S+\/keys\/other\.asc\): repomd\.xml GPG signature verification error/);
  } finally {
    await node.sh("sed -i '/^repo_gpgcheck=1$/d' /etc/dnf/dnf.conf");
  }
  assert.equal(await rpmState(node), before);
}, () => w?.node);

scenario('seed-rocky: the runbook\'s config (firewall: disable) joins a Rocky-like node with real dnf, rpm and firewalld', async () => {
  const { node } = w!;
  assert.match((await node.exec(['cat', '/etc/os-release'])).stdout, /^ID="rocky"$/m);
  assert.notEqual((await node.exec(['sh', '-c', 'command -v apt-get || command -v dpkg'], { allowFailure: true })).exitCode, 0, 'no apt or dpkg on this node');
  assert.equal((await node.exec(['systemctl', 'is-active', 'firewalld'], { allowFailure: true })).stdout.trim(), 'active', 'firewalld runs, as on a fresh Rocky');

  await joinOnce(w!);
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.equal(await rpmVersion(node, p), KUBE, `${p} at exactly ${KUBE} (the repository also has ${NEWER})`);
  assert.equal(await rpmVersion(node, 'containerd.io'), CONTAINERD_IO_RPM, 'Docker\'s containerd.io from the docker-ce.repo layout');
  // kubelet's dependencies: kubernetes-cni from the Kubernetes repository, iptables from AppStream
  assert.equal(await rpmVersion(node, 'kubernetes-cni'), KUBERNETES_CNI_RPM);
  assert.equal(await rpmVersion(node, 'iptables-nft'), '1.8.11-11.el10');
  assert.equal((await node.exec(['test', '-x', '/opt/cni/bin/bridge'], { allowFailure: true })).exitCode, 0, 'the CNI plugins in /opt/cni/bin');
  const locks = (await node.exec(['cat', '/etc/dnf/plugins/versionlock.list'])).stdout;
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.match(locks, new RegExp(`^${p}-0:${KUBE.replaceAll('.', '\\.')}\\.\\*$`, 'm'), `${p} held by a versionlock:\n${locks}`);
  assert.match((await node.exec(['cat', '/etc/yum.repos.d/kubernetes.repo'])).stdout, /^exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni$/m);
  assert.match((await node.exec(['cat', '/etc/yum.repos.d/docker-ce.repo'])).stdout, /^baseurl=.*\/linux\/centos\/\$releasever\/\$basearch\/stable$/m);
  assert.equal((await node.exec(['systemctl', 'is-active', 'firewalld'], { allowFailure: true })).stdout.trim(), 'inactive', 'firewalld stopped');
  assert.equal((await node.exec(['systemctl', 'is-enabled', 'firewalld'], { allowFailure: true })).stdout.trim(), 'disabled', 'and disabled for good');
  const dump = (await node.exec(['containerd', 'config', 'dump'])).stdout;
  assert.match(dump, /SystemdCgroup = true/);
  assert.match(dump, /config_path = '\/etc\/containerd\/certs\.d'/);
  assert.deepEqual(await k8sImages(node), EXPECTED_IMAGES);
  await assertJoined(w!);
}, () => w?.node);

scenario('seed-rocky: a second run changes nothing', async () => {
  const { node } = w!;
  const etc = await hashEtc(node);
  const rpms = await rpmState(node);
  const r = await run(node);
  assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  assert.deepEqual(notChanged(`${r.stdout}\n${r.stderr}`), [], 'every step ok');
  assert.deepEqual(diffHashes(etc, await hashEtc(node)), [], 'every file under /etc hashes the same');
  assert.equal(await rpmState(node), rpms, 'no package transaction');
}, () => w?.node);

scenario('seed-rocky: dnf upgrade afterwards (also with upstream\'s --disableexcludes=kubernetes, or =all) does not move the kube packages', async () => {
  const { node } = w!;
  await node.exec(['dnf', 'upgrade', '-y', '-q', '--refresh'], { timeoutMs: 5 * 60_000 });
  await node.exec(['dnf', 'upgrade', '-y', '-q', '--disableexcludes=kubernetes'], { timeoutMs: 5 * 60_000 });
  await node.exec(['dnf', 'upgrade', '-y', '-q', '--disableexcludes=all'], { timeoutMs: 5 * 60_000 });
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.equal(await rpmVersion(node, p), KUBE, `${p} still ${KUBE}`);
}, () => w?.node);

scenario('seed-rocky: kubelet upgraded by hand: plan shows it, run downgrades it to the cluster\'s version with real dnf and holds it again', async () => {
  const { node } = w!;
  await node.exec(['dnf', 'versionlock', 'delete', '-q', 'kubelet']);
  await node.exec(['dnf', 'install', '-y', '-q', '--disableexcludes=kubernetes', `kubelet-${NEWER}`], { timeoutMs: 5 * 60_000 });
  assert.equal(await rpmVersion(node, 'kubelet'), NEWER);
  const plan = await node.exec(['/root/joinagent', 'plan', '--config', CONFIG], { allowFailure: true });
  assert.match(plan.stdout, new RegExp(`package kubelet: ${NEWER.replaceAll('.', '\\.')} -> 1\\.32\\.11`), `plan shows the hand upgrade:\n${plan.stdout}`);
  assert.match(plan.stdout, /hold kubelet: no -> yes/, plan.stdout);
  const r = await run(node);
  assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(await rpmVersion(node, 'kubelet'), KUBE, 'downgraded to the cluster\'s version');
  assert.match((await node.exec(['cat', '/etc/dnf/plugins/versionlock.list'])).stdout, new RegExp(`^kubelet-0:${KUBE.replaceAll('.', '\\.')}\\.\\*$`, 'm'));
  await assertJoined(w!);
}, () => w?.node);

scenario('seed-rocky: a patch release published after the node\'s last makecache is found (one refresh), installed, and the hold moved to it', async () => {
  const { node, repos } = w!;
  await node.exec(['dnf', 'makecache', '-q'], { timeoutMs: 5 * 60_000 });
  await repos.publish('1.32.13-1.1');
  const cached = await node.exec(['dnf', 'repoquery', '-q', '--disableexcludes=kubernetes', '--qf', '%{version}', 'kubelet']);
  assert.doesNotMatch(cached.stdout, /1\.32\.13/, 'the node\'s metadata is stale: its dnf does not know 1.32.13 yet');
  // the control plane went to 1.32.13; the operator moves the config along
  await node.writeFile(CONFIG, w!.config.replace('kubernetesVersion: v1.32.11', 'kubernetesVersion: v1.32.13'), 0o600);
  const plan = await packagesOnly(node, 'plan');
  assert.match(plan.stdout, /package kubelet: 1\.32\.11-150500\.1\.1 -> 1\.32\.13/, plan.stdout);
  const r = await packagesOnly(node);
  assert.equal(r.exitCode, 0, logText(r));
  assert.equal(logText(r).match(/dnf makecache/g)?.length, 1, 'one refresh, after the cached metadata lacked the version');
  const NEW = `1.32.13-${KUBE_RPM_RELEASE}`;
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.equal(await rpmVersion(node, p), NEW);
  const locks = (await node.exec(['cat', '/etc/dnf/plugins/versionlock.list'])).stdout;
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.match(locks, new RegExp(`^${p}-0:1\\.32\\.13-150500\\.1\\.1\\.\\*$`, 'm'), locks);
  assert.doesNotMatch(locks, /1\.32\.11/, 'the old locks are gone');

  // a lock moved by hand to another version is put back on what is installed
  await node.exec(['dnf', 'versionlock', 'delete', '-q', 'kubectl']);
  await node.exec(['dnf', 'versionlock', 'add', '-q', '--disableexcludes=kubernetes', `kubectl-${NEWER}`]);
  const again = await packagesOnly(node);
  assert.equal(again.exitCode, 0, logText(again));
  assert.deepEqual(notChanged(`${again.stdout}\n${again.stderr}`), ['packages=changed']);
  assert.match((await node.exec(['cat', '/etc/dnf/plugins/versionlock.list'])).stdout, /^kubectl-0:1\.32\.13-150500\.1\.1\.\*$/m);
  assert.equal(await rpmVersion(node, 'kubectl'), NEW, 'nothing reinstalled');
  const third = await packagesOnly(node);
  assert.deepEqual(notChanged(`${third.stdout}\n${third.stderr}`), [], 'then nothing to do');
}, () => w?.node);

scenario('seed-rocky: reset --all --purge-packages removes the packages with dnf and turns firewalld back on', async () => {
  const { node } = w!;
  const r = await node.exec(['/root/joinagent', 'reset', '--all', '--purge-packages', '--yes', '--config', CONFIG], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  for (const p of ['kubelet', 'kubeadm', 'kubectl', 'cri-tools', 'containerd.io']) assert.equal(await rpmVersion(node, p), `package ${p} is not installed`, `${p} removed by dnf`);
  assert.equal((await node.exec(['systemctl', 'is-active', 'firewalld'], { allowFailure: true })).stdout.trim(), 'active', 'firewalld running again');
  assert.equal((await node.exec(['systemctl', 'is-enabled', 'firewalld'], { allowFailure: true })).stdout.trim(), 'enabled', 'and enabled, as before joinagent');
  assert.equal((await node.sh('grep -rs -e kubelet -e kubeadm -e kubectl -e cri-tools /etc/dnf/plugins/ || true')).stdout, '', 'no versionlock entry left behind');
}, () => w?.node);

scenario('seed-rocky: a second, hardened node (repo_gpgcheck=1) with firewall: open-ports joins; firewalld keeps running with the worker ports, also when it was stopped; the seed\'s 6443 incident is diagnosed', async () => {
  await w?.close();
  w = undefined;
  w2 = await startRockyWorld({ slot: 15, log, firewall: 'open-ports', hardened: true });
  const { node } = w2;
  assert.match((await node.exec(['cat', '/etc/dnf/dnf.conf'])).stdout, /^repo_gpgcheck=1$/m);
  await joinOnce(w2);
  assert.equal((await node.exec(['systemctl', 'is-active', 'firewalld'], { allowFailure: true })).stdout.trim(), 'active');
  const ports = (await node.exec(['firewall-cmd', '--list-ports'])).stdout;
  for (const p of ['10250/tcp', '10256/tcp', '30000-32767/tcp', '8472/udp']) assert.ok(ports.split(/\s+/).includes(p), `firewalld allows ${p} now: ${ports}`);
  assert.ok((await node.exec(['firewall-cmd', '--permanent', '--list-ports'])).stdout.includes('10250/tcp'), 'and after a reload or reboot');
  await assertJoined(w2);
  const again = await run(node);
  assert.deepEqual(notChanged(`${again.stdout}\n${again.stderr}`), [], 'a second run changes nothing');

  // firewalld stopped while a port went missing: the permanent rules are edited offline
  await node.sh('firewall-cmd -q --permanent --remove-port=10250/tcp && firewall-cmd -q --reload && systemctl stop firewalld');
  const offline = await node.exec(['/root/joinagent', 'run', '--once', '--only', 'firewall', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 120_000 });
  assert.equal(offline.exitCode, 0, logText(offline));
  assert.match(logText(offline), /firewall-offline-cmd --add-port=10250\/tcp/);
  assert.equal((await node.exec(['systemctl', 'is-active', 'firewalld'], { allowFailure: true })).stdout.trim(), 'inactive', 'open-ports leaves a stopped firewalld stopped');
  await node.exec(['systemctl', 'start', 'firewalld']);
  assert.ok((await node.exec(['firewall-cmd', '--list-ports'])).stdout.split(/\s+/).includes('10250/tcp'), 'the port is open once firewalld starts');

  // the runbook's incident: firewalld back on the control plane, dropping 6443
  await dropPort(15, true, 6443);
  try {
    const d = await node.exec(['/root/joinagent', 'diagnose', '--config', CONFIG], { allowFailure: true, timeoutMs: 120_000 });
    assert.equal(d.exitCode, 1, `diagnose fails:\n${d.stdout}${d.stderr}`);
    assert.match(d.stdout, /filtered/, `diagnose says the port is filtered, not refused:\n${d.stdout}`);
    assert.match(d.stdout, /firewall/i, `and points at the firewall:\n${d.stdout}`);
    assert.match(d.stdout, /firewalld is active, 10250\/tcp open/, `and reads this node's firewalld (firewall-cmd --list-ports):\n${d.stdout}`);
  } finally {
    await dropPort(15, false);
  }
}, () => w2?.node ?? w?.node);
