import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { binary as BINARY } from '../harness/paths.js';
import { ensureBinary, k8sImages } from '../harness/agent.js';
import { assertHostPrepared, assertJoined, EXPECTED_IMAGES } from '../harness/assertions.js';
import { cleanupAll, onCleanup } from '../harness/cleanup.js';
import { renderConfig } from '../harness/config.js';
import { blockFromNode } from '../harness/net.js';
import { log, scenario } from '../harness/scenario.js';
import { sh } from '../harness/sh.js';
import { startWorld, type World } from '../harness/world.js';

// An air-gapped site: `joinagent bundle` runs on a connected machine (this host, which
// reaches the scenario's package repository and registry), the bundle is carried to a
// node whose only network is the control plane (its packets to the repository and the
// registry are dropped), unpacked under /opt, and the node joins from it alone. A file
// of the bundle changed after it was made stops the run before anything is installed.
const SLOT = 42;
const CONFIG = '/root/joinagent.yaml';
const B = '/opt/joinagent-bundle';
let w: World | undefined;
let bundle = '';
let bundleOut = '';

before(async () => {
  await ensureBinary(log);
  w = await startWorld({ slot: SLOT, log });
  const dir = await fs.mkdtemp('/var/tmp/ja-e2e-bundle-');
  onCleanup('bundle dir', () => fs.rm(dir, { recursive: true, force: true }));
  // the connected machine's config: the same site, its repository and registry mirror
  const host = w.node.link.host;
  const cfg = path.join(dir, 'connected.yaml');
  await fs.writeFile(cfg, renderConfig({ host, repoUrl: w.repo.url, repoKeyPath: w.repo.keyFile, registry: w.registry.address, caCertHash: w.cp?.caCertHash, token: w.token }), { mode: 0o600 });
  bundle = path.join(dir, 'site-bundle.tar');
  const t = Date.now();
  const r = await sh(BINARY, ['bundle', '--config', cfg, '--out', bundle], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(r.exitCode, 0, `joinagent bundle exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  bundleOut = r.stdout;
  log(`joinagent bundle took ${((Date.now() - t) / 1000).toFixed(1)}s: ${r.stdout.split('\n')[0]}`);
  await blockFromNode(SLOT, [8080, 5000]);
});
after(cleanupAll);

scenario('airgap: a node whose only network is the control plane joins from the bundle; a changed file stops the run first', async () => {
  const { node } = w!;
  const host = node.link.host;
  // what the bundle command said: the file's sha256 and the settings for the node
  const sum = /^sha256 ([0-9a-f]{64}) {2}site-bundle\.tar$/m.exec(bundleOut)?.[1];
  assert.ok(sum, bundleOut);
  assert.equal((await sh('sha256sum', [bundle])).stdout.split(' ')[0], sum);
  assert.match(bundleOut, /url: "file:\/\/\/opt\/joinagent-bundle\/packages"/);
  assert.equal((await node.exec(['curl', '-sS', '--max-time', '3', `http://${host}:8080/debian/Release`], { allowFailure: true })).exitCode, 28, 'no route to the repository');
  assert.equal((await node.exec(['curl', '-sS', '--max-time', '3', `http://${host}:5000/v2/`], { allowFailure: true })).exitCode, 28, 'no route to the registry');

  await node.copyIn(bundle, '/root/site-bundle.tar');
  await node.exec(['tar', '-xf', '/root/site-bundle.tar', '-C', '/opt']);
  // the operator's own check, and what is inside
  assert.equal((await node.sh(`cd ${B} && sha256sum -c --quiet SHA256SUMS`, { allowFailure: true })).exitCode, 0, 'the bundle\'s sums check with sha256sum');
  const manifest = JSON.parse((await node.exec(['cat', `${B}/manifest.json`])).stdout) as { kubernetesVersion: string; packages: string[]; images: { ref: string }[]; binary?: string };
  assert.equal(manifest.kubernetesVersion, 'v1.32.11');
  // kubelet's dependencies too: kubernetes-cni from the Kubernetes repository, iptables and
  // its libraries from this machine's Debian sources (this machine has iptables installed;
  // the node does not)
  for (const p of ['kubelet_1.32.11-1.1', 'kubeadm_1.32.11-1.1', 'kubectl_1.32.11-1.1', 'cri-tools_1.32.0-1.1', 'containerd_', 'runc_', 'kubernetes-cni_1.6.0-1.1', 'iptables_', 'libip6tc2_']) assert.ok(manifest.packages.some((f) => f.startsWith(p)), `${p} in the bundle: ${manifest.packages.join(' ')}`);
  assert.deepEqual(manifest.images.map((i) => i.ref), EXPECTED_IMAGES);
  assert.equal(manifest.binary, 'joinagent');
  assert.match((await node.exec([`${B}/joinagent`, '--version'])).stdout.trim(), /^\d+\.\d+\.\d+/, 'the bundled binary is the agent');

  const config = renderConfig({ host, repoUrl: `file://${B}/packages`, registry: `${host}:5000`, caCertHash: w!.cp?.caCertHash, token: w!.token, imageArchives: `${B}/images` });
  await node.writeFile(CONFIG, config, 0o600);
  const requestsBefore = w!.repo.requests.length;

  // a package changed after the bundle was made: the run stops before apt sees it
  const kubelet = manifest.packages.find((f) => f.startsWith('kubelet_'))!;
  await node.sh(`printf 'X' | dd of=${B}/packages/${kubelet} bs=1 seek=200 conv=notrunc status=none`);
  const bad = await node.exec([`${B}/joinagent`, 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(bad.exitCode, 1, `${bad.stdout}\n${bad.stderr}`);
  assert.match(bad.stdout + bad.stderr, new RegExp(`bundle: ${B}/packages/${kubelet.replace(/[.+~]/g, '\\$&')} has sha256 [0-9a-f]{64}, but the bundle's SHA256SUMS says [0-9a-f]{64}: the file is damaged or was changed; nothing was installed from the bundle`));
  assert.match(bad.stdout + bad.stderr, /unpack the bundle again from the original file/);
  assert.notEqual((await node.exec(['dpkg-query', '-W', 'kubelet'], { allowFailure: true })).exitCode, 0, 'kubelet is not installed');

  // unpacked again: the node joins from the bundle alone
  await node.exec(['tar', '-xf', '/root/site-bundle.tar', '-C', '/opt', `joinagent-bundle/packages/${kubelet}`]);
  const r = await node.exec([`${B}/joinagent`, 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  await assertHostPrepared(node);
  await assertJoined(w!);
  assert.match((await node.exec(['dpkg-query', '-W', '-f', '${Package} ${db:Status-Abbrev}${Version}\n', 'iptables', 'kubernetes-cni'])).stdout, /^iptables ii 1\.8\.9-\S+\nkubernetes-cni ii 1\.6\.0-1\.1$/, 'kubelet\'s dependencies installed from the bundle');
  assert.deepEqual(await k8sImages(node), EXPECTED_IMAGES, 'both images imported from the bundle');
  assert.equal((await node.exec(['cat', '/etc/apt/sources.list.d/kubernetes.list'])).stdout.split('\n').filter((l) => l.startsWith('deb ')).join('\n'), `deb [trusted=yes] file:${B}/packages/ /`);
  assert.equal(w!.repo.requests.length, requestsBefore, 'the node asked the repository for nothing');
  assert.match(r.stdout + r.stderr, /images\.archives|importing/i);
}, () => w?.node);
