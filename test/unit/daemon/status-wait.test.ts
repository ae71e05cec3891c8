import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeFor, renderStatus, waitIsOver } from '../../../src/cli/commands/status.js';
import type { StatusDocument } from '../../../src/status/model.js';

const doc = (over: Partial<StatusDocument>): StatusDocument => ({
  agent: { version: '0.1.0', commit: 'x', pid: 1, startedAt: '2026-01-01T00:00:00Z', config: '/etc/joinagent/config.yaml' },
  node: { hostname: 'k8s-w1', os: 'Debian', kernel: '6.1', arch: 'x64', cpus: 2, memoryBytes: 1 },
  phase: 'failed',
  ready: false,
  joined: false,
  steps: [],
  warnings: [],
  published: {},
  drift: { steps: [], detected: 0, repairs: 0, recent: [] },
  ...over,
});

// `joinagent status --wait` in cloud-init and Ansible must sit out the daemon's retries.
test('status --wait: ready ends it, a failure ends it unless the daemon will retry', () => {
  const retrying = doc({ reason: 'join: connection refused; retrying in 20s (attempt 3)', next: { action: 'retry', at: '2026-01-01T00:00:20Z', attempt: 3 } });
  assert.equal(codeFor(retrying), 1, 'without --wait it is a failure now');
  assert.equal(waitIsOver(retrying), false);
  assert.match(renderStatus(retrying), /^next +retry \(attempt 3\) at 2026-01-01T00:00:20Z$/m);
  assert.equal(waitIsOver(doc({})), true, 'failed, no retry coming');
  assert.equal(waitIsOver(doc({ phase: 'ready', ready: true, joined: true })), true);
  assert.equal(waitIsOver(doc({ phase: 'host' })), false, 'still working');
});
