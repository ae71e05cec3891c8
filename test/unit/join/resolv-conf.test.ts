import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diagnoseKubeProxy } from '../../../src/join/pod-diagnosis.js';
import { kubeProxyVerdict } from '../../../src/join/podstatus.js';
import { preflightFindings } from '../../../src/join/preflight-checks.js';
import { ETC_RESOLV_CONF as ETC, hostResolvConf, loopbackOnly, RESOLVED_CONF as RUN, resolvConfVerdict, type ResolvHost } from '../../../src/join/resolv-conf.js';

const STUB = '# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n';
const UPSTREAM = 'nameserver 192.0.2.53\nnameserver 2001:db8::53\n';

// Debian without systemd-resolved: /etc/resolv.conf is a plain file, /run/systemd/resolve absent.
const plain: ResolvHost = { resolvedActive: false, files: { [ETC]: UPSTREAM, [RUN]: null } };
// Ubuntu's default: /etc/resolv.conf -> stub-resolv.conf, resolved's upstream list in /run.
const resolved: ResolvHost = { resolvedActive: true, files: { [ETC]: STUB, [RUN]: UPSTREAM } };
// resolved running, but /etc/resolv.conf linked to its upstream file (resolved's "uplink" mode).
const uplink: ResolvHost = { resolvedActive: true, files: { [ETC]: UPSTREAM, [RUN]: UPSTREAM } };
const nothing: ResolvHost = { resolvedActive: false, files: { [ETC]: null, [RUN]: null } };

describe('resolv.conf contents', () => {
  test('loopback-only is the stub (or a local cache); one real nameserver is enough', () => {
    assert.equal(loopbackOnly(STUB), true);
    assert.equal(loopbackOnly('nameserver ::1\n'), true);
    assert.equal(loopbackOnly(UPSTREAM), false);
    assert.equal(loopbackOnly('nameserver 127.0.0.53\nnameserver 192.0.2.1\n'), false);
    assert.equal(loopbackOnly('# no nameserver\n'), false, 'no nameserver at all: pods get none, but nothing loops');
  });
  test("this host's file: resolved's upstream list only when /etc/resolv.conf is the stub", () => {
    assert.deepEqual([plain, resolved, uplink, nothing].map(hostResolvConf), [ETC, RUN, ETC, undefined]);
  });
});

describe('resolvConf verdict (kubeadm v1.32 join + kubelet against this host)', () => {
  const table: { name: string; cluster: string | undefined; host: ResolvHost; operator?: string; fix?: string; problem?: RegExp; message: RegExp }[] = [
    { name: 'resolved control plane, plain Debian node: the file is missing -> /etc/resolv.conf', cluster: RUN, host: plain, fix: ETC, problem: /does not exist on this host/, message: /^resolvConf \/run\/systemd\/resolve\/resolv\.conf \(the cluster's kubelet-config\) does not exist on this host \(systemd-resolved is not running\): this node's kubelet gets \/etc\/resolv\.conf$/ },
    { name: 'cluster says /etc/resolv.conf, node runs resolved with the stub -> resolved\'s file', cluster: ETC, host: resolved, fix: RUN, problem: /loopback nameservers \(127\.0\.0\.53/, message: /systemd-resolved is running\): this node's kubelet gets \/run\/systemd\/resolve\/resolv\.conf$/ },
    { name: 'cluster unset, resolved node: kubeadm\'s own per-node choice works', cluster: undefined, host: resolved, message: /^resolvConf \/run\/systemd\/resolve\/resolv\.conf \(kubeadm, as systemd-resolved is active\) works on this host$/ },
    { name: 'cluster unset, plain node: the kubelet default works', cluster: undefined, host: plain, message: /\/etc\/resolv\.conf \(the kubelet's default\) works/ },
    { name: 'both agree', cluster: RUN, host: resolved, message: /works on this host/ },
    { name: 'uplink mode: /etc/resolv.conf already lists the upstream servers', cluster: ETC, host: uplink, message: /works on this host/ },
    { name: '"" (no host DNS) is the operator\'s choice', cluster: '', host: plain, message: /^resolvConf "" \(no host DNS\)/ },
    { name: 'no usable file at all: reported, not fixed', cluster: RUN, host: nothing, problem: /does not exist/, message: /this host has no usable resolv\.conf \(\/etc\/resolv\.conf missing, \/run\/systemd\/resolve\/resolv\.conf missing\)/ },
    { name: 'the operator\'s own patch names a missing file: theirs, reported', cluster: ETC, operator: '/etc/custom-resolv.conf', host: { ...plain, files: { ...plain.files, '/etc/custom-resolv.conf': null } }, problem: /does not exist/, message: /^resolvConf \/etc\/custom-resolv\.conf \(your kubeletconfiguration patch\) does not exist on this host: pods on this node would not get DNS; this host's file is \/etc\/resolv\.conf$/ },
  ];
  for (const t of table) {
    test(t.name, () => {
      const v = resolvConfVerdict({ cluster: t.cluster, operator: t.operator, host: t.host });
      assert.equal(v.fix, t.fix);
      if (t.problem) assert.match(v.problem ?? '', t.problem);
      else assert.equal(v.problem, undefined);
      assert.match(v.message, t.message);
    });
  }
});

describe('preflight says it in one line', () => {
  const base = { kubernetesVersion: 'v1.32.11', serverVersion: 'v1.32.11', nodeName: 'w1', swapMode: 'disable' as const, swapActive: false, existingNode: 'refuse' as const, cluster: { notes: [], kubelet: { resolvConf: RUN }, node: null } };
  test('a fix is an info line naming the patch; an unfixable one a warning with the next action', () => {
    const fixed = preflightFindings({ ...base, resolv: resolvConfVerdict({ cluster: RUN, host: plain }), resolvPatch: '/var/lib/joinagent/patches/kubeletconfiguration-resolvconf+merge.yaml' });
    assert.deepEqual(fixed.map((f) => `${f.level} ${f.check}`), ['info resolv-conf']);
    assert.match(fixed[0].message, /this node's kubelet gets \/etc\/resolv\.conf \(kubeadm patch \/var\/lib\/joinagent\/patches\/kubeletconfiguration-resolvconf\+merge\.yaml\)$/);
    const stuck = preflightFindings({ ...base, resolv: resolvConfVerdict({ cluster: RUN, host: nothing }) });
    assert.deepEqual(stuck.map((f) => `${f.level} ${f.check}`), ['warn resolv-conf']);
    assert.match(stuck[0].hint!, /Failed to create pod sandbox/);
    assert.deepEqual(preflightFindings({ ...base, resolv: resolvConfVerdict({ cluster: RUN, host: resolved }) }), []);
  });
});

describe('kube-proxy diagnosis: a resolvConf the node lacks', () => {
  const creating = { metadata: { name: 'kube-proxy-x7k2p', labels: { 'k8s-app': 'kube-proxy' } }, status: { phase: 'Pending', containerStatuses: [{ name: 'kube-proxy', restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] } };
  const ok = { kubeletDriver: 'systemd', runcSystemdCgroup: true, driverFromRuntime: false, sandboxImage: 'registry.k8s.io/pause:3.10', sandboxPresent: true };
  test('named before the runtime\'s preconditions (the kubelet fails before it asks for a sandbox)', () => {
    const d = diagnoseKubeProxy(kubeProxyVerdict('w1', [creating]), { ...ok, sandboxPresent: false, resolvConf: RUN, resolvConfMissing: true });
    assert.equal(d.message, 'kube-proxy-x7k2p is not running: Pending, ContainerCreating: the kubelet cannot create its pod sandbox: resolvConf /run/systemd/resolve/resolv.conf (in /var/lib/kubelet/config.yaml) does not exist on this node ("Failed to create pod sandbox: open /run/systemd/resolve/resolv.conf: no such file or directory")');
    assert.match(d.hint, /kubelet-resolvconf step/);
    assert.equal(d.definite, true);
  });
  test('a file that exists is no cause', () => {
    const d = diagnoseKubeProxy(kubeProxyVerdict('w1', [creating]), { ...ok, resolvConf: ETC, resolvConfMissing: false });
    assert.doesNotMatch(d.message, /resolvConf/);
  });
});
