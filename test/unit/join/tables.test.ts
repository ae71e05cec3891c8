import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyJoinFailure, phaseProgress } from '../../../src/join/kubeadm-output.js';
import { joinVerdict } from '../../../src/join/local.js';
import { nodeVerdict } from '../../../src/join/nodestatus.js';
import { versionSkew } from '../../../src/join/version.js';

test('versionSkew: equal ok, server newer warns, kubelet newer or 4 minors older fails', () => {
  const cases: [string, string, string][] = [
    ['v1.32.11', 'v1.32.11', 'ok'],
    ['v1.32.11', 'v1.33.0', 'warn'],
    ['v1.32.11', 'v1.32.12', 'warn'],
    ['v1.32.11', 'v1.35.0', 'warn'],
    ['v1.32.11', 'v1.36.0', 'fail'],
    ['v1.32.11', 'v1.32.10', 'fail'],
    ['v1.32.11', 'v1.31.4', 'fail'],
    ['v1.32.11', 'v1.32.11+k3s1', 'ok'],
  ];
  for (const [k, s, want] of cases) assert.equal(versionSkew(k, s).level, want, `${k} vs ${s}`);
  assert.match(versionSkew('v1.32.11', 'v1.31.4').hint!, /set kubernetesVersion to the control plane's version \(v1\.31\.4\)/);
});

test('phaseProgress: kubeadm phase lines -> progress, other lines ignored', () => {
  const cases: [string, string | undefined][] = [
    ['[preflight] Running pre-flight checks', 'preflight: running pre-flight checks'],
    ['[kubelet-start] Starting the kubelet', 'kubelet-start: starting the kubelet'],
    ['[kubelet-check] The kubelet is healthy after 1.0s', 'kubelet-check: the kubelet is healthy after 1.0s'],
    ['[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap', 'tls-bootstrap: waiting for the kubelet to perform the TLS bootstrap'],
    ['This node has joined the cluster:', 'joined: this node has joined the cluster'],
    ['* Certificate signing request was sent to apiserver', undefined],
    ['', undefined],
  ];
  for (const [line, want] of cases) assert.equal(phaseProgress(line), want, line);
});

test('classifyJoinFailure: preflight errors by name, node exists, discovery, kubelet', () => {
  const pre = 'error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists\n';
  let f = classifyJoinFailure(pre, 1);
  assert.deepEqual([f.kind, f.resettable], ['already-joined', true]);
  assert.match(f.hint, /kubeadm reset --force/);
  f = classifyJoinFailure('\t[ERROR Swap]: running with swap on is not supported\n\t[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not set to 1\n', 1);
  assert.deepEqual([f.kind, f.resettable], ['preflight', false]);
  assert.match(f.message, /Swap \(running with swap on is not supported\); FileContent--proc-sys-net-ipv4-ip_forward/);
  assert.match(f.hint, /host\.swap: disable/);
  assert.match(f.hint, /net\.ipv4\.ip_forward/);
  f = classifyJoinFailure('error execution phase kubelet-start: a Node with name "k8s-w1" and status "Ready" already exists in the cluster. You must delete the existing Node or change the name of this new joining Node', 1);
  assert.equal(f.kind, 'node-exists');
  assert.match(f.hint, /kubectl delete node k8s-w1/);
  f = classifyJoinFailure('error execution phase preflight: couldn\'t validate the identity of the API Server: failed to verify JWS signature of received cluster info object, can\'t trust this API Server', 1);
  assert.equal(f.kind, 'discovery');
  f = classifyJoinFailure("[kubelet-check] The kubelet is not healthy after 4m0s\nerror execution phase kubelet-start: The HTTP call equal to 'curl -sSL http://127.0.0.1:10248/healthz' failed", 1);
  assert.deepEqual([f.kind, f.resettable], ['kubelet', true]);
  // kubeadm v1.32 only warns when it cannot reach the CRI; the kubelet then fails: the warning is the cause
  const cri = 'W1202 12:00:00.000000    1234 checks.go:1078] [preflight] WARNING: Couldn\'t create the interface used for talking to the container runtime: failed to create new CRI runtime service: validate service connection: validate CRI v1 runtime API for endpoint "unix:///run/containerd/typo.sock": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /run/containerd/typo.sock: connect: no such file or directory"\n';
  f = classifyJoinFailure(`${cri}[kubelet-check] The kubelet is not healthy after 40s\nerror execution phase kubelet-start: The HTTP call equal to 'curl -sSL http://127.0.0.1:10248/healthz' returned error: connection refused`, 1);
  assert.equal(f.kind, 'kubelet');
  assert.match(f.message, /could not reach the container runtime at unix:\/\/\/run\/containerd\/typo\.sock: rpc error: code = Unavailable/);
  assert.match(f.hint, /nodeRegistration\.criSocket \(unix:\/\/\/run\/containerd\/typo\.sock\)/);
  f = classifyJoinFailure(`${cri}\terror execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not set to 1\n`, 1);
  assert.equal(f.kind, 'preflight');
  assert.match(f.message, /ip_forward contents are not set to 1.*could not reach the container runtime/);
  assert.match(f.hint, /--skip sysctl/);
  f = classifyJoinFailure('', -1, true);
  assert.match(f.message, /timed out \(join\.timeout\)/);
});

test('joinVerdict: fresh, joined, other cluster, half-finished', () => {
  const none = { kubeletConf: false, leftovers: [], caPins: [] };
  assert.equal(joinVerdict(none, []).state, 'fresh');
  assert.equal(joinVerdict({ kubeletConf: true, leftovers: [], caPins: ['sha256:aa'] }, ['sha256:AA']).state, 'joined');
  assert.equal(joinVerdict({ kubeletConf: true, leftovers: [], caPins: ['sha256:aa'] }, []).state, 'joined');
  assert.equal(joinVerdict({ kubeletConf: true, leftovers: [], caPins: ['sha256:bb'] }, ['sha256:aa']).state, 'other-cluster');
  assert.deepEqual(joinVerdict({ kubeletConf: false, leftovers: ['/etc/kubernetes/pki/ca.crt'], caPins: [] }, []), { state: 'half', leftovers: ['/etc/kubernetes/pki/ca.crt'] });
});

test('nodeVerdict: Ready, NetworkUnavailable, Ready condition reason, none yet', () => {
  assert.deepEqual(nodeVerdict('n', { spec: { podCIDR: '10.244.1.0/24' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }), { name: 'n', found: true, ready: true, podCIDR: '10.244.1.0/24', reason: undefined });
  assert.equal(nodeVerdict('n', { status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }, { type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] } }).reason, 'NetworkUnavailable');
  assert.equal(nodeVerdict('n', { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy' }] } }).reason, 'KubeletNotReady: PLEG is not healthy');
  assert.equal(nodeVerdict('n', {}).reason, 'no Ready condition yet');
});
