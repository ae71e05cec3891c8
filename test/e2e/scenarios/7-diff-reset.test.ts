import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary } from '../harness/agent.js';
import { assertJoined } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// Issue 9 on a real node: after a join, `joinagent diff` (no arguments) shows what the
// agent did to this machine; `joinagent reset --all` then returns the prepared host to
// its original files, byte for byte, keeping a line someone added in between.
let w: World | undefined;
const CONFIG = '/root/joinagent.yaml';
const FOREIGN = '203.0.113.7\tbackup-server # added by an operator after the join';

before(async () => {
  w = await startWorld({ slot: 11, log: log });
  await w.node.copyIn(await ensureBinary(log), '/usr/local/bin/joinagent', 0o755);
  await w.node.writeFile(CONFIG, w.config, 0o600);
});
after(cleanupAll);

scenario('operator tools: diff after a join, then reset --all restores the host', async () => {
  const { node } = w!;
  // the host as it was before joinagent: copies to compare with after the reset
  await node.sh('mkdir -p /root/orig && cp -a /etc/fstab /etc/hosts /root/orig/');
  const r = await node.exec(['joinagent', 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  await assertJoined(w!);

  const d = await node.exec(['joinagent', 'diff'], { allowFailure: true });
  assert.equal(d.exitCode, 0, d.stderr);
  for (const want of [/\+.*\/etc\/kubernetes\/kubelet\.conf/, /\+.*\/etc\/kubernetes\/pki\/ca\.crt/, /\+.*registry\.k8s\.io\/kube-proxy:v1\.32\.11/, /\+.*registry\.k8s\.io\/pause:3\.10/, /net\.ipv4\.ip_forward/]) {
    assert.match(d.stdout, want, `diff shows ${want}:\n${d.stdout}`);
  }
  assert.doesNotMatch(d.stdout, /\bpid\b|\bPID\b/, 'no process ids in the diff');

  await node.sh(`printf '%s\\n' '${FOREIGN}' >> /etc/hosts`);
  const reset = await node.exec(['joinagent', 'reset', '--all', '--yes', '--config', CONFIG], { allowFailure: true, timeoutMs: 5 * 60_000 });
  assert.equal(reset.exitCode, 0, `${reset.stdout}\n${reset.stderr}`);
  const same = await node.exec(['cmp', '/etc/fstab', '/root/orig/fstab'], { allowFailure: true });
  assert.equal(same.exitCode, 0, 'fstab is back to the original bytes');
  // expected, byte for byte: the original file plus the operator's line, built in the node
  await node.sh(`cp /root/orig/hosts /root/expected-hosts && printf '%s\\n' '${FOREIGN}' >> /root/expected-hosts`);
  const hosts = await node.exec(['cmp', '/etc/hosts', '/root/expected-hosts'], { allowFailure: true });
  assert.equal(hosts.exitCode, 0, `hosts: joinagent block gone, original lines back, the operator line kept: ${hosts.stdout}${(await node.exec(['cat', '-A', '/etc/hosts'])).stdout}`);
  for (const gone of ['/etc/kubernetes/kubelet.conf', '/etc/sysctl.d/k8s.conf', '/etc/modules-load.d/k8s.conf', '/etc/crictl.yaml', '/var/lib/joinagent/kubeadm-join.yaml']) {
    assert.notEqual((await node.exec(['test', '-e', gone], { allowFailure: true })).exitCode, 0, `${gone} removed`);
  }
  const plan = await node.exec(['joinagent', 'plan', '--config', CONFIG], { allowFailure: true });
  assert.match(plan.stdout, /^join +would change/m, 'the node can join again');
}, () => w?.node);
