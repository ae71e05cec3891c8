import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import type { Node } from '../harness/node.js';
import { startRockyWorld, type RockyWorld } from '../harness/rocky-world.js';
import { KUBERNETES_CNI_RPM } from '../harness/rpm-deps.js';
import { log, scenario } from '../harness/scenario.js';

// "Unmet dependencies" with real dnf: the Kubernetes repository lacks kubernetes-cni,
// which kubelet requires. dnf refuses the transaction ("nothing provides ..."); the agent
// re-reads the metadata once, then fails quoting dnf, with nothing installed. Once the
// repository has the package, dnf's cached metadata (metadata_expire: 48 h) predates it,
// and the next run must get past that on its own. iptables comes from AppStream.
const CONFIG = '/root/joinagent.yaml';
let w: RockyWorld | undefined;
let binary = '';

before(async () => {
  binary = await ensureBinary(log);
  w = await startRockyWorld({ slot: 44, log, withhold: ['kubernetes-cni'] });
});
after(cleanupAll);

const packagesOnly = (node: Node) => node.exec(['/root/joinagent', 'run', '--once', '--only', 'packages', '--config', CONFIG, '--log-format', 'json'], { allowFailure: true, timeoutMs: 8 * 60_000 });
const logText = (r: { stdout: string; stderr: string }): string => `${r.stdout}\n${r.stderr}`.split('\n').map((l) => (l.startsWith('{') ? Object.values(JSON.parse(l) as Record<string, unknown>).filter((v) => typeof v === 'string').join(' ') : l)).join('\n');
const rpmState = async (node: Node): Promise<string> => (await node.sh("rpm -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}\\n' | sort")).stdout;

scenario('unmet dependencies (dnf): a missing kubernetes-cni fails quoting dnf with nothing installed; stale metadata is re-read once the repository has it', async () => {
  const { node, repos } = w!;
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, w!.config, 0o600);
  const before = await rpmState(node);
  assert.doesNotMatch(before, /^iptables/m, 'no iptables in the rpm database: it must come from AppStream');

  const r = await packagesOnly(node);
  const out = logText(r);
  assert.equal(r.exitCode, 1, out);
  assert.match(out, /packages: dnf install: .* unmet dependencies \(with freshly read package lists\):\n\s*- nothing provides kubernetes-cni >= 1\.2\.0 needed by kubelet-1\.32\.11-150500\.1\.1\.x86_64/, out);
  assert.match(out, /no enabled repository offers kubernetes-cni \(in a version the packages accept\): .*check with 'dnf provides kubernetes-cni'/, out);
  assert.equal(await rpmState(node), before, 'nothing installed');

  await repos.release(['kubernetes-cni']);
  const ok = await packagesOnly(node);
  assert.equal(ok.exitCode, 0, logText(ok));
  assert.equal((await node.exec(['rpm', '-q', '--qf', '%{VERSION}-%{RELEASE}', 'kubernetes-cni'])).stdout, KUBERNETES_CNI_RPM);
  assert.equal((await node.exec(['rpm', '-q', '--qf', '%{NAME}', '--whatprovides', 'iptables'])).stdout, 'iptables-nft', 'kubelet\'s iptables from AppStream');
  assert.equal((await node.exec(['test', '-x', '/opt/cni/bin/bridge'], { allowFailure: true })).exitCode, 0);
}, () => w?.node);
