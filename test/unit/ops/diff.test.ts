import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { diffSnapshots } from '../../../src/ops/diff/diff.js';
import { normalizeView } from '../../../src/ops/diff/noise.js';
import { renderDiff } from '../../../src/ops/diff/render.js';
import { parseSnapshot } from '../../../src/ops/snapshot/capture.js';

const fixture = (name: string) => parseSnapshot(readFileSync(new URL(`../../fixtures/snapshots/${name}.json`, import.meta.url), 'utf8'), name);
const before = fixture('before');
const after = fixture('after');
const text = renderDiff(diffSnapshots(before, after), { a: 'before.json', b: 'after.json' });

test('a join diff shows the real changes', () => {
  for (const line of [
    /^files under \/etc\/kubernetes: 3 appeared$/m,
    /^ {2}\+ \/etc\/kubernetes\/kubelet\.conf +file 0600 1970 bytes/m,
    /^listening sockets: 5 appeared$/m,
    /^ {2}\+ tcp6 \[::\]:10250 +kubelet$/m,
    /^ {2}\+ kube-system\/kube-proxy-7xk2p kube-proxy +running registry\.k8s\.io\/kube-proxy:v1\.32\.11$/m,
    /^ {2}\+ kube-flannel\/kube-flannel-ds-q9w8e install-cni +exited/m,
    /^ {2}~ net\.ipv4\.ip_forward +0 -> 1$/m,
    /^ {2}\+ net\.ipv4\.conf\.cni0\.\* +\(5 sysctls\)$/m,
    /^ {2}\+ \/var\/lib\/kubelet\/kubeadm-flags\.env KUBELET_KUBEADM_ARGS +--container-runtime-endpoint/m,
    /^ {2}\+ kubepods\.slice +cgroup$/m,
    /^ {2}\+ net:\[4026532310\] +pause$/m,
    /^not compared: files under \/run\/containerd \(before: cannot read: EACCES\)$/m,
  ]) {
    assert.match(text, line);
  }
});

test('noise stays out: counters, PIDs, sessions, ephemeral ports, process counts', () => {
  for (const noise of ['kernel.random', 'fs.dentry-state', 'fs.inode-nr', 'fs.file-nr', 'session-', '41234', '38811', '52011', '47120', 'root@pts', '97 processes', 'cni0.forwarding']) {
    assert.ok(!text.includes(noise), `"${noise}" must not be in the diff:\n${text}`);
  }
  assert.match(text, /^43 differences; 11 noisy items ignored/m);
});

test('the same snapshot twice has no differences', () => {
  const same = renderDiff(diffSnapshots(after, after), { a: 'x', b: 'x' });
  assert.match(same, /^0 differences;/m);
  assert.match(same, /^unchanged: container images, containers, kubelet environment/m);
});

test('ephemeral ports fold into one key; well-known ports do not', () => {
  const n = normalizeView('listening', { 'tcp 127.0.0.1:41234': 'containerd', 'tcp 0.0.0.0:10250': 'kubelet', 'udp 0.0.0.0:60999': 'chronyd' });
  assert.deepEqual(n.items, { 'tcp 127.0.0.1:<ephemeral>': 'containerd', 'tcp 0.0.0.0:10250': 'kubelet', 'udp 0.0.0.0:<ephemeral>': 'chronyd' });
});

test('a file that is not a snapshot is named in the error', () => {
  assert.throws(() => parseSnapshot('{"views":{}}', 'x.json'), /x\.json: not a joinagent snapshot/);
  assert.throws(() => parseSnapshot('nope', 'y.json'), /y\.json: not a joinagent snapshot \(invalid JSON/);
});

test('a view readable on one side only is compared with nothing: images that arrived with containerd show as appeared, with the reason', () => {
  const snap = (views: Record<string, unknown>) => ({ format: 'joinagent-snapshot/v1', label: 'x', takenAt: 't', hostname: 'h', views }) as never;
  const d = diffSnapshots(
    snap({ images: { status: 'missing', reason: 'containerd is not running', absent: true } }),
    snap({ images: { status: 'ok', source: 'ctr', items: { 'registry.k8s.io/pause:3.10': 'sha256:1' } } }),
  );
  const text = renderDiff(d, { a: 'a', b: 'b' });
  assert.match(text, /: 1 appeared \(before: containerd is not running\)/);
  assert.match(text, /\+ registry\.k8s\.io\/pause:3\.10/);
  assert.doesNotMatch(text, /not compared: .*images/i);
});
