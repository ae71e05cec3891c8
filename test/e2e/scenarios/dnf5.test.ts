import assert from 'node:assert/strict';
import { KUBERNETES_CNI_RPM } from '../harness/rpm-deps.js';
import { after, before } from 'node:test';
import { diffHashes, ensureBinary, hashEtc } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { startFedoraWorld, type FedoraWorld } from '../harness/fedora-world.js';
import type { Node } from '../harness/node.js';
import { log, scenario } from '../harness/scenario.js';
import { REPO_KEY_IN_NODE } from '../harness/world.js';

// dnf5 for real: a Fedora-like node (dnf5 5.4 as /usr/bin/dnf, rpm 6.1; Debian sid's
// builds, see harness/fedora.ts) runs joinagent's packages step against pkgs.k8s.io's
// and Docker's layouts. Then the same node with /usr/bin/dnf pointed back at dnf 4.24.
let w: FedoraWorld | undefined;
const CONFIG = '/root/joinagent.yaml';
const KUBE = '1.35.2-150500.1.1';
const NEWER = '1.35.3-150500.1.1';
const KUBE_PKGS = ['kubelet', 'kubeadm', 'kubectl'];

before(async () => {
  const binary = await ensureBinary(log);
  w = await startFedoraWorld({ slot: 16, log });
  await w.node.copyIn(binary, '/root/joinagent', 0o755);
});
after(cleanupAll);

const agent = (node: Node, cmd = 'run') => node.exec(['/root/joinagent', cmd, ...(cmd === 'run' ? ['--once'] : []), '--only', 'packages', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 8 * 60_000 });
const rpmVersion = async (node: Node, name: string): Promise<string> => (await node.exec(['rpm', '-q', '--qf', '%{VERSION}-%{RELEASE}', name], { allowFailure: true })).stdout.trim();
const rpmState = async (node: Node): Promise<string> => (await node.sh("rpm -qa --qf '%{NAME}-%{VERSION}-%{RELEASE} %{INSTALLTIME}\\n' | sort")).stdout;
const logText = (r: { stdout: string; stderr: string }): string => `${r.stdout}\n${r.stderr}`.split('\n').map((l) => (l.startsWith('{') ? Object.values(JSON.parse(l) as Record<string, unknown>).filter((v) => typeof v === 'string').join(' ') : l)).join('\n');
const changed = (r: { stdout: string; stderr: string }): string[] => `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string; step?: string; state?: string }).filter((e) => e.event === 'step-end' && e.state !== 'ok' && e.state !== 'skipped').map((e) => `${e.step}=${e.state}`);
// dnf5's lock for a name: the evr of its "=" condition in /etc/dnf/versionlock.toml
const tomlLock = (toml: string, name: string): string | undefined => new RegExp(`name = "${name}"[^\\[]*\\[\\[packages\\.conditions\\]\\]\\s*key = "evr"\\s*comparator = "="\\s*value = "([^"]+)"`).exec(toml)?.[1];

scenario('dnf5: a repository key that did not sign the packages, or (repo_gpgcheck=1) the metadata: the error names the repository and the key (dnf5\'s wording); nothing installed, rpm\'s keyring as before', async () => {
  const { node, repos } = w!;
  assert.equal((await node.exec(['readlink', '/usr/bin/dnf'])).stdout.trim(), 'dnf5');
  assert.match((await node.exec(['dnf', '--version'])).stdout, /^dnf5 version 5\.\d/);
  const before = await rpmState(node);
  await node.writeFile(CONFIG, w!.config.replace(`key: "${REPO_KEY_IN_NODE}"`, `key: "${repos.otherKeyUrl}"`), 0o600);
  const r = await agent(node);
  assert.equal(r.exitCode, 1, logText(r));
  assert.match(logText(r), /packages: dnf install: repository "kubernetes" \([^)]*\) does not verify with the key in \/etc\/pki\/rpm-gpg\/kubernetes\.asc \(repositories\.kubernetes\.key: \S+\/keys\/other\.asc\): Import of the key didn't help, wrong key\?; nothing was installed/);
  assert.equal(await rpmState(node), before, 'no package installed and no key left in rpm\'s keyring');
  assert.equal((await node.exec(['test', '-e', '/etc/pki/rpm-gpg/kubernetes.asc'], { allowFailure: true })).exitCode, 1, 'the wrong key is not kept');

  // from here on the node checks repository metadata signatures too (repo_gpgcheck=1, a
  // hardened host): dnf5 now refuses the wrong key's repository at its repomd.xml
  await node.sh("echo repo_gpgcheck=1 >> /etc/dnf/dnf.conf && rm -rf /var/cache/libdnf5/kubernetes-*");
  const md = await agent(node);
  assert.equal(md.exitCode, 1, logText(md));
  assert.match(logText(md), /repository "kubernetes" does not verify with the key in \/etc\/pki\/rpm-gpg\/kubernetes\.asc \(repositories\.kubernetes\.key: \S+\/keys\/other\.asc\): repomd\.xml GPG signature verification error: [^;]+; nothing was installed/);
  assert.equal(await rpmState(node), before);
}, () => w?.node);

scenario('dnf5 (repo_gpgcheck=1): the packages step installs exact version-releases, lifts the repository\'s exclude with --setopt=disable_excludes, holds them in /etc/dnf/versionlock.toml and pulls no weak dependency; a second run changes nothing', async () => {
  const { node } = w!;
  await node.writeFile(CONFIG, w!.config, 0o600);
  // what dnf5 does by default with this kubelet: its recommendation comes along (asked
  // without metadata signatures: --assumeno also refuses the key import they need)
  const plain = await node.exec(['dnf', 'install', '--assumeno', '--repo=kubernetes', '--repo=fedora', '--setopt=kubernetes.repo_gpgcheck=0', '--setopt=disable_excludes=kubernetes', `kubelet-${KUBE}`], { allowFailure: true });
  assert.match(plain.stdout, /Installing weak dependencies:\n iptables-nft /, `${plain.stdout}${plain.stderr}`);

  const r = await agent(node);
  assert.equal(r.exitCode, 0, logText(r));
  for (const p of KUBE_PKGS) assert.equal(await rpmVersion(node, p), KUBE, `${p} at exactly ${KUBE} (the repository also has ${NEWER})`);
  assert.equal(await rpmVersion(node, 'cri-tools'), '1.35.0-150500.1.1');
  assert.match(await rpmVersion(node, 'containerd.io'), /^2\.1\.9-/);
  assert.equal(await rpmVersion(node, 'kubernetes-cni'), KUBERNETES_CNI_RPM, 'kubelet\'s required kubernetes-cni came along');
  assert.match((await node.exec(['rpm', '-q', '--recommends', 'kubelet'])).stdout, /^iptables >= 1\.8\.4$/m);
  assert.equal(await rpmVersion(node, 'iptables-nft'), 'package iptables-nft is not installed', 'no weak dependency (install_weak_deps=False)');
  assert.equal(await rpmVersion(node, 'python3-dnf-plugin-versionlock'), 'package python3-dnf-plugin-versionlock is not installed', 'dnf5 has versionlock built in');
  const toml = (await node.exec(['cat', '/etc/dnf/versionlock.toml'])).stdout;
  for (const p of KUBE_PKGS) assert.equal(tomlLock(toml, p), KUBE, `${p} locked:\n${toml}`);
  assert.equal(tomlLock(toml, 'cri-tools'), '1.35.0-150500.1.1');
  assert.match((await node.exec(['cat', '/etc/yum.repos.d/kubernetes.repo'])).stdout, /^exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni$/m);

  const etc = await hashEtc(node);
  const rpms = await rpmState(node);
  const again = await agent(node);
  assert.deepEqual(changed(again), [], logText(again));
  assert.deepEqual(diffHashes(etc, await hashEtc(node)), []);
  assert.equal(await rpmState(node), rpms, 'no package transaction');
}, () => w?.node);

scenario('dnf5: dnf upgrade leaves the held packages (also with upstream\'s excludes lifted); one that lifts every exclude moves them, plan shows it and the next run downgrades them (dnf5 install of the older version-release) and locks them again', async () => {
  const { node } = w!;
  for (const opts of [['--refresh'], ['--setopt=disable_excludes=kubernetes']]) {
    await node.exec(['dnf', 'upgrade', '-y', '-q', ...opts], { timeoutMs: 5 * 60_000 });
    for (const p of KUBE_PKGS) assert.equal(await rpmVersion(node, p), KUBE, `${p} not moved by dnf upgrade ${opts.join(' ')}`);
  }
  // libdnf5 skips the versionlock with the other excludes when disable_excludes is "*"
  // (PackageSack::Impl::load_config_excludes_includes returns before loading it)
  await node.exec(['dnf', 'upgrade', '-y', '-q', '--setopt=disable_excludes=*'], { timeoutMs: 5 * 60_000 });
  for (const p of KUBE_PKGS) assert.equal(await rpmVersion(node, p), NEWER, `${p} moved by disable_excludes=*`);
  const plan = await agent(node, 'plan');
  assert.match(plan.stdout, /package kubelet: 1\.35\.3-150500\.1\.1 -> 1\.35\.2/, plan.stdout);
  assert.match(plan.stdout, /hold kubelet: no -> yes/, plan.stdout);
  const r = await agent(node);
  assert.equal(r.exitCode, 0, logText(r));
  const toml = (await node.exec(['cat', '/etc/dnf/versionlock.toml'])).stdout;
  for (const p of KUBE_PKGS) {
    assert.equal(await rpmVersion(node, p), KUBE, `${p} downgraded`);
    assert.equal(tomlLock(toml, p), KUBE, toml);
  }
}, () => w?.node);

scenario('dnf5: a patch release published after the last makecache is found (one refresh), installed, and the lock moved to it', async () => {
  const { node, repos } = w!;
  await node.exec(['dnf', 'makecache', '-q'], { timeoutMs: 5 * 60_000 });
  await repos.publish('1.35.4-1.1');
  const cached = await node.exec(['dnf', 'repoquery', '-q', '--setopt=disable_excludes=kubernetes', '--queryformat', '%{version}\n', 'kubelet']);
  assert.doesNotMatch(cached.stdout, /1\.35\.4/, 'the node\'s metadata is stale');
  await node.writeFile(CONFIG, w!.config.replace('kubernetesVersion: v1.35.2', 'kubernetesVersion: v1.35.4'), 0o600);
  const r = await agent(node);
  assert.equal(r.exitCode, 0, logText(r));
  assert.equal(logText(r).match(/dnf makecache/g)?.length, 1, 'one refresh');
  const toml = (await node.exec(['cat', '/etc/dnf/versionlock.toml'])).stdout;
  for (const p of KUBE_PKGS) {
    assert.equal(await rpmVersion(node, p), '1.35.4-150500.1.1');
    assert.equal(tomlLock(toml, p), '1.35.4-150500.1.1', toml);
  }
  assert.deepEqual(changed(await agent(node)), [], 'held: nothing left to do');
}, () => w?.node);

scenario('dnf 4.24 on the same node (/usr/bin/dnf back to dnf 4): exact version-releases, the versionlock plugin from the distribution, no weak dependency; a second run changes nothing', async () => {
  const { node } = w!;
  await node.exec(['dnf', 'remove', '-y', '-q', ...KUBE_PKGS, 'cri-tools', 'containerd.io'], { timeoutMs: 5 * 60_000 });
  await node.sh('rm -f /etc/dnf/versionlock.toml && ln -sfn dnf-3 /usr/bin/dnf');
  assert.match((await node.exec(['dnf', '--version'])).stdout, /^4\.24\./);
  await node.writeFile(CONFIG, w!.config, 0o600);
  const plain = await node.exec(['dnf', 'install', '--assumeno', '--repo=kubernetes', '--repo=fedora', '--setopt=kubernetes.repo_gpgcheck=0', '--disableexcludes=kubernetes', `kubelet-${KUBE}`], { allowFailure: true });
  assert.match(plain.stdout, /Installing weak dependencies:\n iptables-nft /, `${plain.stdout}${plain.stderr}`);
  const r = await agent(node);
  assert.equal(r.exitCode, 0, logText(r));
  for (const p of KUBE_PKGS) assert.equal(await rpmVersion(node, p), KUBE);
  assert.equal(await rpmVersion(node, 'iptables-nft'), 'package iptables-nft is not installed', 'no weak dependency');
  assert.match(await rpmVersion(node, 'python3-dnf-plugin-versionlock'), /^4\./, 'dnf 4 needs the plugin: installed from the distribution\'s repository');
  const locks = (await node.exec(['cat', '/etc/dnf/plugins/versionlock.list'])).stdout;
  for (const p of KUBE_PKGS) assert.match(locks, new RegExp(`^${p}-0:${KUBE.replaceAll('.', '\\.')}\\.\\*$`, 'm'), locks);
  await node.exec(['dnf', 'upgrade', '-y', '-q', '--disableexcludes=kubernetes'], { timeoutMs: 5 * 60_000 });
  for (const p of KUBE_PKGS) assert.equal(await rpmVersion(node, p), KUBE, `${p} held by the versionlock`);
  assert.deepEqual(changed(await agent(node)), [], 'a second run changes nothing');
}, () => w?.node);
