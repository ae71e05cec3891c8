import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary, waitForStatus } from '../harness/agent.js';
import { assertJoined } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// "Unmet dependencies" as the field meets it. The node is a fresh Debian 12 image: its
// distribution source (the test's mirror: iptables and its libraries) has no package
// lists yet. The Kubernetes repository lacks kubernetes-cni, which kubelet depends on (a
// mirror that copied only kubelet, kubeadm, kubectl and cri-tools). The agent must re-read
// every source before it blames the repositories, fail without touching dpkg, quote apt's
// reason with the next action in its output and /status; once the repository carries the
// package, its lists are stale, and the daemon's next run must get past that on its own.
const SLOT = 43;
const CONFIG = '/root/joinagent.yaml';
let w: World | undefined;
let binary = '';

before(async () => {
  binary = await ensureBinary(log);
  w = await startWorld({ slot: SLOT, log, tokenFile: '/etc/joinagent/token', withhold: ['kubernetes-cni'] });
});
after(cleanupAll);

const lists = async (w: World): Promise<string> => (await w.node.sh('cd /var/lib/apt/lists && for f in *_Packages; do [ -e "$f" ] && echo "== $f" && grep "^Package:" "$f"; done; true')).stdout;

scenario('unmet dependencies: empty distro lists are read first, a missing kubernetes-cni fails quoting apt with dpkg untouched, and stale lists recover once the repository has it', async () => {
  const { node } = w!;
  assert.doesNotMatch(await lists(w!), /Package:/, 'a fresh image: no package lists at all');
  assert.match((await node.exec(['cat', '/etc/apt/sources.list.d/debian.sources'])).stdout, /^Suites: bookworm$/m, 'the node has a distribution source');
  assert.notEqual((await node.exec(['sh', '-c', 'command -v iptables'], { allowFailure: true })).exitCode, 0, 'iptables is not pre-installed: kubelet\'s dependency must come from the mirror');

  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, w!.config, 0o600);
  await node.writeFile('/etc/joinagent/token', `${w!.token}\n`, 0o600);
  const inst = await node.exec(['/root/joinagent', 'install', '--now', '--config', CONFIG], { allowFailure: true, timeoutMs: 60_000 });
  assert.equal(inst.exitCode, 0, `install --now exited ${inst.exitCode}:\n${inst.stdout}\n${inst.stderr}`);

  const failed = await waitForStatus(node, 'the packages step failed', (d) => d.lastError?.step === 'packages', 5 * 60_000);
  const msg = failed.lastError!.message;
  assert.match(msg, /unmet dependencies \(with freshly read package lists\):\nkubelet : Depends: kubernetes-cni \(>= 1\.2\.0\) but it is not installable/, msg);
  // the distribution's lists were read before the verdict: iptables resolved, only kubernetes-cni is missing
  assert.doesNotMatch(msg, /iptables/, msg);
  assert.doesNotMatch(msg, /held broken packages/, 'not apt\'s misleading last line');
  assert.match(failed.lastError!.hint ?? '', /no enabled repository offers kubernetes-cni \(in a version the packages accept\): .*pkgs\.k8s\.io.*check with 'apt-cache policy kubernetes-cni'.*nothing was installed/);
  assert.match(await lists(w!), /_bookworm_main_binary-amd64_Packages\n(Package: .*\n)*Package: iptables\n/, 'the distribution\'s lists were fetched');
  const st = await node.exec(['/root/joinagent', 'status'], { allowFailure: true });
  assert.match(st.stdout, /kubernetes-cni/, `joinagent status names the missing package:\n${st.stdout}`);
  // apt refused before dpkg ran: nothing half-configured, nothing of the transaction installed
  assert.equal((await node.exec(['dpkg', '--audit'])).stdout.trim(), '', 'dpkg --audit: nothing half-installed or half-configured');
  for (const p of ['kubelet', 'kubeadm', 'iptables', 'containerd']) assert.notEqual((await node.exec(['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', p], { allowFailure: true })).stdout.trim(), 'ii', `${p} not installed`);

  // the mirror catches up; the node's lists of it predate kubernetes-cni (stale)
  await w!.repo.release!(['kubernetes-cni']);
  assert.doesNotMatch(await lists(w!), /Package: kubernetes-cni/, 'the node\'s lists are stale');
  await waitForStatus(node, 'joined after the repository was fixed', (d) => d.ready && d.joined, 6 * 60_000);
  await assertJoined(w!);
  assert.match((await node.exec(['dpkg-query', '-W', '-f', '${db:Status-Abbrev}${Version}', 'kubernetes-cni'])).stdout, /^ii 1\.6\.0-1\.1$/);
  assert.equal((await node.exec(['test', '-x', '/opt/cni/bin/bridge'], { allowFailure: true })).exitCode, 0, 'the CNI plugins in /opt/cni/bin, as upstream\'s kubernetes-cni installs them');
  assert.match((await node.exec(['iptables', '--version'])).stdout, /^iptables v1\.8\.9/, 'Debian\'s real iptables from the mirror');
}, () => w?.node);
