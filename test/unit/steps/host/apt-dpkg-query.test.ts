import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDpkgQuery } from '../../../../src/steps/host/packages/apt.js';

// Found on a booted node (e2e prepare check): after `apt-mark hold` dpkg reports "hi",
// and a parser that wanted "ii" saw the held kube packages as absent.
test('dpkg-query status: installed counts whether held or not; removed and half-installed do not', () => {
  const out = parseDpkgQuery(['kubelet\t1.32.11-1.1\thi ', 'containerd\t1.6.20~ds1-1+deb12u3\tii ', 'runc\t1.1.5\trc ', 'kubeadm\t1.32.11-1.1\tiU '].join('\n'));
  assert.deepEqual([...out.entries()], [['kubelet', '1.32.11-1.1'], ['containerd', '1.6.20~ds1-1+deb12u3']]);
});
