import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { extraArgsOf, nodeIPFlag } from '../../../src/join/kubelet-env.js';
import { nodeIPStep } from '../../../src/steps/join/nodeip.js';
import { FakeProc, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';

test('KUBELET_EXTRA_ARGS as systemd reads an EnvironmentFile: quotes stripped, last assignment wins', () => {
  assert.equal(extraArgsOf('# comment\nKUBELET_EXTRA_ARGS=\n'), '');
  assert.equal(extraArgsOf('KUBELET_EXTRA_ARGS="--node-ip=10.0.0.9 --v=2"\n'), '--node-ip=10.0.0.9 --v=2');
  assert.equal(extraArgsOf("KUBELET_EXTRA_ARGS='--a'\nKUBELET_EXTRA_ARGS=--b\n"), '--b');
  assert.equal(extraArgsOf('OTHER=1\n'), undefined);
});

test('--node-ip in both spellings; the last one given is the one pflag keeps', () => {
  assert.equal(nodeIPFlag('--v=2 --node-ip=10.0.0.9'), '10.0.0.9');
  assert.equal(nodeIPFlag('--node-ip 10.0.0.9 --node-ip=10.0.0.8'), '10.0.0.8');
  assert.equal(nodeIPFlag('--node-ips=1 --v=2'), undefined);
});

test('node-ip step: an operator\'s --node-ip in /etc/default/kubelet that differs is a warning naming file, both addresses and the fix', async () => {
  const t = tempRoot();
  try {
    const cfg = testConfig();
    cfg.join.kubeletExtraArgs = [{ name: 'node-ip', value: '10.0.0.5' }];
    mkdirSync(path.join(t.root, 'etc/default'), { recursive: true });
    writeFileSync(path.join(t.root, 'etc/default/kubelet'), 'KUBELET_EXTRA_ARGS="--node-ip=10.0.0.9"\n');
    const ctx = stepContext(t.files, new FakeProc(), cfg);
    const r = await nodeIPStep.check(ctx);
    assert.equal(r.state, 'ok');
    const warnings = ctx.events.filter((e) => e.type === 'warning');
    assert.equal(warnings.length, 1);
    assert.match(JSON.stringify(warnings[0]), /\/etc\/default\/kubelet sets --node-ip=10\.0\.0\.9 .*register 10\.0\.0\.9, not 10\.0\.0\.5/);

    writeFileSync(path.join(t.root, 'etc/default/kubelet'), 'KUBELET_EXTRA_ARGS="--node-ip=10.0.0.5 --v=2"\n');
    const same = stepContext(t.files, new FakeProc(), cfg);
    await nodeIPStep.check(same);
    assert.equal(same.events.filter((e) => e.type === 'warning').length, 0, 'the same address: nothing to say');
  } finally {
    t.cleanup();
  }
});
