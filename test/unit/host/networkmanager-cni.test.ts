import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NM_CNI_CONF, networkManagerCniStep, renderNmCniConf } from '../../../src/steps/host/networkmanager-cni.js';
import { FakeProc, rockyFacts, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';
import { runTwice } from './run-twice.js';

const OPERATOR = '/etc/NetworkManager/conf.d/10-storage-nic.conf';

describe('networkmanager-cni step', () => {
  it('writes joinagent-cni.conf and reloads a running NetworkManager once; an operator\'s file is left as it was; second run ok', async () => {
    const t = tempRoot();
    try {
      await t.files.write(OPERATOR, '[keyfile]\nunmanaged-devices=interface-name:ens8\n');
      const proc = new FakeProc().on('systemctl is-active NetworkManager', { stdout: 'active\n' }).on('systemctl reload NetworkManager', {});
      const ctx = stepContext(t.files, proc, testConfig(), rockyFacts);
      const { first } = await runTwice(networkManagerCniStep, ctx, proc);
      assert.deepEqual(first.state === 'change' && first.changes.map((c) => (c.kind === 'file' ? `write ${c.path}` : c.kind === 'action' ? c.description : c.name)), [`write ${NM_CNI_CONF}`, 'run: systemctl reload NetworkManager']);
      assert.equal(await t.files.read(NM_CNI_CONF), renderNmCniConf());
      assert.equal(await t.files.read(OPERATOR), '[keyfile]\nunmanaged-devices=interface-name:ens8\n');
    } finally {
      t.cleanup();
    }
  });
  it('NetworkManager stopped: the file only (read at its next start); not installed: skipped', async () => {
    const t = tempRoot();
    try {
      await t.files.mkdir('/etc/NetworkManager', 0o755);
      const proc = new FakeProc().on('systemctl is-active NetworkManager', { stdout: 'inactive\n', exitCode: 3 });
      const r = await networkManagerCniStep.check(stepContext(t.files, proc, testConfig(), rockyFacts));
      assert.deepEqual(r.state === 'change' && r.changes.map((c) => c.kind), ['file']);
    } finally {
      t.cleanup();
    }
    const bare = tempRoot();
    try {
      assert.deepEqual(await networkManagerCniStep.check(stepContext(bare.files, new FakeProc(), testConfig(), rockyFacts)), { state: 'skip', reason: 'NetworkManager is not installed' });
    } finally {
      bare.cleanup();
    }
  });
});
