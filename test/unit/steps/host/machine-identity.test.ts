import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StepError } from '../../../../src/engine/step.js';
import { paths } from '../../../../src/host/paths.js';
import { cloneVerdict, type IdentityRecord } from '../../../../src/join/machine-clone.js';
import { machineIdentityStep } from '../../../../src/steps/host/machine-identity.js';
import { debianFacts, FakeProc, stepContext, tempRoot, testConfig } from '../../../helpers/fakes.js';

const ID = '0123456789abcdef0123456789abcdef';
const OTHER = 'fedcba9876543210fedcba9876543210';
const UUID_A = '4c4c4544-0042-3510-8052-b2c04f4e3032';
const UUID_B = '4c4c4544-0042-3510-8052-b2c04f4e9999';
const rec = (o: Partial<IdentityRecord> = {}): IdentityRecord => ({ machineId: ID, hostname: 'builder', recordedAt: '2026-12-01T08:00:00.000Z', by: 'prepare', ...o });

describe('cloneVerdict (pure)', () => {
  const cases: [string, IdentityRecord | undefined, { machineId: string; productUuid?: string; hostname: string }, string][] = [
    ['nothing recorded', undefined, { machineId: ID, hostname: 'w1' }, 'record'],
    ['another machine-id: the copy got its own (or it was regenerated)', rec(), { machineId: OTHER, hostname: 'w2' }, 'record'],
    ['the builder itself', rec(), { machineId: ID, hostname: 'builder' }, 'same'],
    ['the builder with DMI', rec({ productUuid: UUID_A }), { machineId: ID, productUuid: UUID_A, hostname: 'builder' }, 'same'],
    ['the builder renamed: DMI says it is the same machine', rec({ productUuid: UUID_A }), { machineId: ID, productUuid: UUID_A, hostname: 'worker-7' }, 'same'],
    ['a VM copy: same id, another product_uuid (even with the same name)', rec({ productUuid: UUID_A }), { machineId: ID, productUuid: UUID_B, hostname: 'builder' }, 'clone'],
    ['a copy without DMI: same id, another host name', rec(), { machineId: ID, hostname: 'worker-2' }, 'clone'],
    ['its own run\'s record, renamed, without DMI (a reset node joining under a new name): the same machine', rec({ by: 'run' }), { machineId: ID, hostname: 'worker-2' }, 'same'],
    ['its own run\'s record, another product_uuid: a copy all the same', rec({ by: 'run', productUuid: UUID_A }), { machineId: ID, productUuid: UUID_B, hostname: 'worker-2' }, 'clone'],
    ['recorded without DMI (a chroot), DMI now, same name', rec(), { machineId: ID, productUuid: UUID_A, hostname: 'builder' }, 'same'],
    ['recorded without DMI, DMI now, another name', rec(), { machineId: ID, productUuid: UUID_A, hostname: 'worker-2' }, 'clone'],
  ];
  for (const [name, recorded, now, want] of cases) it(name, () => assert.equal(cloneVerdict(recorded, now).kind, want));

  it('a clone is named in one line with what differs and the exact fix', () => {
    const v = cloneVerdict(rec({ productUuid: UUID_A }), { machineId: ID, productUuid: UUID_B, hostname: 'worker-2' });
    assert.equal(v.kind, 'clone');
    if (v.kind !== 'clone') return;
    assert.equal(v.error, `/etc/machine-id ${ID} is the one \`joinagent prepare\` recorded at 2026-12-01T08:00:00.000Z on "builder", but this machine has product_uuid ${UUID_B}, not ${UUID_A}: it is a copy of that image sharing its machine-id, which the kubelet, the CNI and DHCP would all report as one machine`);
    assert.match(v.hint, /^give this machine its own id: `systemd-id128 new > \/etc\/machine-id`, reboot, and run joinagent again/);
    assert.doesNotMatch(v.error + v.hint, /\n/);
  });
  it('a renamed builder is not current: the record is updated', () => {
    assert.deepEqual(cloneVerdict(rec({ productUuid: UUID_A }), { machineId: ID, productUuid: UUID_A, hostname: 'w7' }), { kind: 'same', current: false });
    assert.deepEqual(cloneVerdict(rec(), { machineId: ID, hostname: 'builder' }), { kind: 'same', current: true });
  });
});

describe('machine-identity step', () => {
  const { root, files, cleanup } = tempRoot('ja-identity-');
  after(cleanup);
  const ctxFor = (hostname: string, machineId: string | null = ID, productUuid?: string) => stepContext(files, new FakeProc(), testConfig(), { ...debianFacts, hostname, machineId: machineId ?? undefined, productUuid });

  it('prepare records the builder; a second run is ok and writes nothing', async () => {
    const step = machineIdentityStep('prepare');
    const ctx = ctxFor('builder');
    const c = await step.check(ctx);
    assert.equal(c.state, 'change');
    if (c.state !== 'change') return;
    await step.apply(ctx, c.changes);
    const written = JSON.parse((await files.read(paths.identityRecord))!) as IdentityRecord;
    assert.deepEqual({ ...written, recordedAt: 'T' }, { machineId: ID, hostname: 'builder', recordedAt: 'T', by: 'prepare' });
    const again = await step.check(ctxFor('builder'));
    assert.equal(again.state, 'ok');
    assert.equal(ctx.published.machineIdentity && (ctx.published.machineIdentity as { recordedBy: string }).recordedBy, 'prepare');
  });

  it('run on a copy with another host name is refused before anything, and writes nothing', async () => {
    const before = await files.read(paths.identityRecord);
    const err = await machineIdentityStep('run').check(ctxFor('worker-2')).then(() => assert.fail('not refused'), (e: unknown) => e);
    assert.ok(err instanceof StepError);
    assert.match(err.message, /^machine identity: \/etc\/machine-id 0123456789abcdef0123456789abcdef is the one `joinagent prepare` recorded at \S+ on "builder", but this machine has host name "worker-2"/);
    assert.equal(err.retryable, false);
    assert.equal(await files.read(paths.identityRecord), before);
  });

  it('after the fix (its own machine-id) the copy records itself and proceeds', async () => {
    const step = machineIdentityStep('run');
    const ctx = ctxFor('worker-2', OTHER);
    const c = await step.check(ctx);
    assert.equal(c.state, 'change');
    if (c.state !== 'change') return;
    assert.match(c.message!, /machine-id changed from 0123456789abcdef0123456789abcdef/);
    await step.apply(ctx, c.changes);
    assert.equal((JSON.parse((await files.read(paths.identityRecord))!) as IdentityRecord).by, 'run');
    assert.equal((await step.check(ctxFor('worker-2', OTHER))).state, 'ok');
  });

  it('no machine-id yet (an image built in a chroot): nothing to record', async () => {
    for (const id of [null, '', 'uninitialized']) assert.equal((await machineIdentityStep('prepare').check(ctxFor('builder', id))).state, 'skip');
  });

  it('a joined node is not compared', async () => {
    await files.write(paths.kubeletConf, 'apiVersion: v1\n');
    try {
      assert.equal((await machineIdentityStep('run').check(ctxFor('worker-9'))).state, 'skip');
    } finally {
      await files.remove(paths.kubeletConf, { backup: false });
    }
    assert.ok(root);
  });
});
