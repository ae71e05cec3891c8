import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubeletFatal } from '../../../src/join/kubelet.js';

test('kubeletFatal: the last "command failed" line of the kubelet journal names the cause', () => {
  const journal = [
    'I1202 12:00:01.000000 412 swap_util.go:119] "Swap is on" /proc/swaps contents=<Filename Type Size Used Priority>',
    'E1202 12:00:01.000000 412 run.go:72] "command failed" err="failed to run Kubelet: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false"',
    'kubelet.service: Main process exited, code=exited, status=1/FAILURE',
  ].join('\n');
  assert.equal(kubeletFatal(journal), 'failed to run Kubelet: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false');
  const cri = 'E1202 run.go:72] "command failed" err="failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint \\"unix:///run/x.sock\\": rpc error: code = Unavailable desc = connection error"';
  assert.equal(kubeletFatal(cri), 'failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint "unix:///run/x.sock": rpc error: code = Unavailable desc = connection error');
  assert.equal(kubeletFatal('kubelet: registered Node w1'), undefined);
});
