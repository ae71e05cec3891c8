import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import type { Change } from '../../../../src/engine/step.js';
import { resolvConfVerdict } from '../../../../src/join/resolv-conf.js';
import { joinStep } from '../../../../src/steps/join/join.js';
import { RESOLV_PATCH } from '../../../../src/steps/join/patches.js';
import { kubeletResolvConfStep } from '../../../../src/steps/join/resolv-conf.js';
import { FakeProc, stepContext, tempRoot, testConfig } from '../../../helpers/fakes.js';

// joinagent's resolvConf fix for one node: before the join as a kubeadm patch (from
// preflight's verdict), after it in /var/lib/kubelet/config.yaml; a second run is ok and
// runs nothing. A kubelet healthz stand-in answers on 19732 (the 19730-19749 test range).
let server: http.Server;
before(async () => {
  process.env.JOINAGENT_TEST_KUBELET_PORT = '19732';
  server = http.createServer((_q, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(19732, '127.0.0.1', r));
});
after(() => server.close());

const UPSTREAM = 'nameserver 192.0.2.53\n';
const PATCH = `/var/lib/joinagent/patches/${RESOLV_PATCH}`;
const CONFIG = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nresolvConf: /run/systemd/resolve/resolv.conf\nstaticPodPath: /etc/kubernetes/manifests\n';

function noResolved(): FakeProc {
  return new FakeProc().on('systemctl is-active systemd-resolved', { exitCode: 3, stdout: 'inactive\n' }).on('systemctl restart kubelet', {});
}

test('after the join: a resolvConf the node lacks is set to /etc/resolv.conf, the patch kept for kubeadm upgrade node; the second run is ok with no run()', async () => {
  const { files, cleanup } = tempRoot();
  try {
    await files.write('/etc/kubernetes/kubelet.conf', 'apiVersion: v1\n');
    await files.write('/var/lib/kubelet/config.yaml', CONFIG);
    await files.write('/etc/resolv.conf', UPSTREAM);
    const proc = noResolved();
    const ctx = stepContext(files, proc);
    const c = await kubeletResolvConfStep.check(ctx);
    assert.equal(c.state, 'change');
    const changes = (c as { changes: Change[] }).changes;
    assert.deepEqual(changes.map((x) => (x.kind === 'file' ? `file ${x.path}` : x.kind === 'value' ? `value ${x.name} ${x.live} -> ${x.wanted}` : `action ${x.description}`)), [
      'value kubelet resolvConf /run/systemd/resolve/resolv.conf -> /etc/resolv.conf',
      'file /var/lib/kubelet/config.yaml',
      `file ${PATCH}`,
      'action systemctl restart kubelet (to read the changed resolvConf)',
    ]);
    assert.match((c as { message: string }).message, /does not exist on this host: this node's kubelet gets \/etc\/resolv\.conf/);
    await kubeletResolvConfStep.apply(ctx, changes);
    assert.equal(await files.read('/var/lib/kubelet/config.yaml'), CONFIG.replace('/run/systemd/resolve/resolv.conf', '/etc/resolv.conf'), 'only resolvConf changed, in place');
    assert.match((await files.read(PATCH))!, /^resolvConf: \/etc\/resolv\.conf$/m);
    assert.deepEqual(proc.runs(), ['systemctl restart kubelet']);

    proc.reset();
    const again = await kubeletResolvConfStep.check(ctx);
    assert.equal(again.state, 'ok');
    assert.deepEqual(proc.runs(), []);
  } finally {
    cleanup();
  }
});

test('after the join: the stub under systemd-resolved becomes resolved\'s upstream list; not joined yet is a skip', async () => {
  const { files, cleanup } = tempRoot();
  try {
    const proc = new FakeProc().on('systemctl is-active systemd-resolved', { stdout: 'active\n' }).on('systemctl restart kubelet', {});
    const ctx = stepContext(files, proc);
    assert.equal((await kubeletResolvConfStep.check(ctx)).state, 'skip');
    await files.write('/etc/kubernetes/kubelet.conf', 'apiVersion: v1\n');
    // no resolvConf in config.yaml: the kubelet's default /etc/resolv.conf, here the stub
    await files.write('/var/lib/kubelet/config.yaml', 'kind: KubeletConfiguration\n');
    await files.write('/etc/resolv.conf', 'nameserver 127.0.0.53\noptions edns0 trust-ad\n');
    await files.write('/run/systemd/resolve/resolv.conf', UPSTREAM);
    const c = await kubeletResolvConfStep.check(ctx);
    assert.equal(c.state, 'change');
    await kubeletResolvConfStep.apply(ctx, (c as { changes: Change[] }).changes);
    assert.match((await files.read('/var/lib/kubelet/config.yaml'))!, /^resolvConf: \/run\/systemd\/resolve\/resolv\.conf$/m);
    assert.equal((await kubeletResolvConfStep.check(ctx)).state, 'ok');
  } finally {
    cleanup();
  }
});

test('before the join: preflight\'s fix reaches kubeadm as a patch in joinagent\'s directory (plan shows the file)', async () => {
  const { files, cleanup } = tempRoot();
  try {
    const ctx = stepContext(files, noResolved(), testConfig());
    const verdict = resolvConfVerdict({ cluster: '/run/systemd/resolve/resolv.conf', host: { resolvedActive: false, files: { '/etc/resolv.conf': UPSTREAM, '/run/systemd/resolve/resolv.conf': null } } });
    ctx.publish('preflight', { checkedAt: '', nodeName: 'k8s-w1', findings: [], resolvConf: verdict });
    const c = await joinStep.check(ctx);
    assert.equal(c.state, 'change');
    const changes = (c as { changes: Change[] }).changes;
    const patch = changes.find((x) => x.kind === 'file' && x.path === PATCH);
    assert.ok(patch && patch.kind === 'file', `the patch file is a planned change: ${JSON.stringify(changes.map((x) => (x.kind === 'file' ? x.path : x.kind)))}`);
    assert.match(patch.after!, /^resolvConf: \/etc\/resolv\.conf$/m);
    const join = changes.find((x) => x.kind === 'file' && x.path === '/var/lib/joinagent/kubeadm-join.yaml');
    assert.match((join as { after: string }).after, /^patches:\n {2}directory: \/var\/lib\/joinagent\/patches$/m);

    // a cluster whose resolvConf works here: no patch, no patches directory
    ctx.publish('preflight', { checkedAt: '', nodeName: 'k8s-w1', findings: [], resolvConf: resolvConfVerdict({ cluster: '/etc/resolv.conf', host: { resolvedActive: false, files: { '/etc/resolv.conf': UPSTREAM } } }) });
    const plain = (await joinStep.check(ctx)) as { changes: Change[] };
    assert.equal(plain.changes.filter((x) => x.kind === 'file' && x.path.startsWith('/var/lib/joinagent/patches/')).length, 0);
    assert.doesNotMatch((plain.changes.find((x) => x.kind === 'file' && x.path.endsWith('kubeadm-join.yaml')) as { after: string }).after, /patches:/);
  } finally {
    cleanup();
  }
});

test("the operator's own patches: the resolvConf kubeadm would apply last is theirs", async () => {
  const { files, cleanup } = tempRoot();
  try {
    const { operatorResolvConf } = await import('../../../../src/join/resolv-facts.js');
    assert.equal(await operatorResolvConf(files, '/site'), undefined, 'no directory');
    await files.write('/site/kubeletconfiguration0+merge.yaml', 'maxPods: 90\n');
    assert.equal(await operatorResolvConf(files, '/site'), undefined, 'a patch that does not set it');
    await files.write('/site/kubeletconfiguration1.yaml', 'resolvConf: /etc/kube-resolv.conf\n');
    await files.write('/site/sub/kubeletconfiguration2+json.yaml', '- op: replace\n  path: /resolvConf\n  value: /etc/other-resolv.conf\n');
    await files.write('/site/kube-apiserver.yaml', 'resolvConf: /not/for/kubelet\n');
    assert.equal(await operatorResolvConf(files, '/site'), '/etc/other-resolv.conf', 'the json patch under sub/ comes last in filepath.Walk order');
  } finally {
    cleanup();
  }
});
