import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { upgradeActions, type UpgradePlanInput } from '../../../src/upgrade/actions.js';
import { runAction } from '../../../src/upgrade/run-action.js';
import { FakeProc, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';

const plan: UpgradePlanInput = {
  from: 'v1.32.11',
  to: 'v1.32.12',
  nodeName: 'k8s-w1',
  images: { kubeProxy: 'registry.k8s.io/kube-proxy:v1.32.12', pause: 'registry.k8s.io/pause:3.10' },
  drain: { kubeconfig: '/etc/joinagent/drain.conf', timeoutMs: 120_000 },
  hold: 'apt-mark hold',
};
let t: ReturnType<typeof tempRoot>;
afterEach(() => t.cleanup());
const env = (proc: FakeProc) => {
  t = tempRoot();
  const target = testConfig({ kubernetesVersion: 'v1.32.12' });
  return { ctx: stepContext(t.files, proc, target), target, plan };
};

test('drain and uncordon use the operator\'s kubeconfig and the time limit', async () => {
  const proc = new FakeProc().on('kubectl', { exitCode: 0 });
  const e = env(proc);
  await runAction('drain', e);
  await runAction('uncordon', e);
  assert.deepEqual(proc.runs(), ['kubectl --kubeconfig /etc/joinagent/drain.conf drain k8s-w1 --ignore-daemonsets --delete-emptydir-data --timeout=120s', 'kubectl --kubeconfig /etc/joinagent/drain.conf uncordon k8s-w1']);
  assert.ok(upgradeActions(plan).some((a) => a.id === 'drain'));
});

test('a drain that does not finish fails naming the node and what holds it', async () => {
  const proc = new FakeProc().on('kubectl', { exitCode: 1, stderr: 'error: unable to drain node "k8s-w1" due to error: Cannot evict pod as it would violate the pod\'s disruption budget.' });
  await assert.rejects(runAction('drain', env(proc)), (e: Error & { hint?: string }) => {
    assert.match(e.message, /kubectl drain k8s-w1: .*disruption budget/);
    assert.match(e.hint ?? '', /stays cordoned; look for a PodDisruptionBudget/);
    return true;
  });
});

test('kubeadm upgrade node: kubeadm\'s own error line is the message; a config.yaml lost midway is restored from kubeadm\'s backup first', async () => {
  const proc = new FakeProc().on('kubeadm upgrade node', { exitCode: 1, stdout: '[upgrade] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...\n', stderr: 'unable to fetch the kubeadm-config ConfigMap: failed to get config map: configmaps "kubeadm-config" not found\nTo see the stack trace of this error execute with --v=5 or higher\n' });
  const e = env(proc);
  await t.files.write('/etc/kubernetes/tmp/kubeadm-kubelet-config-2026-12-01-10-00-00/config.yaml', 'old: 1\n');
  await t.files.write('/etc/kubernetes/tmp/kubeadm-kubelet-config-2026-12-02-10-00-00/config.yaml', 'kind: KubeletConfiguration\n');
  await assert.rejects(runAction('kubeadm-upgrade-node', e), /kubeadm upgrade node failed: unable to fetch the kubeadm-config ConfigMap: failed to get config map: configmaps "kubeadm-config" not found$/);
  assert.equal(await t.files.read('/var/lib/kubelet/config.yaml'), 'kind: KubeletConfiguration\n', 'the newest backup put back before kubeadm ran');
  assert.ok(e.ctx.events.some((x) => x.type === 'warning' && /is missing \(an earlier kubeadm upgrade node was stopped midway\)/.test(x.message)));
});
