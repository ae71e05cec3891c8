import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseTimedatectlShow, timeChanges, timeStep, type TimeSettings } from '../../../src/steps/host/time.js';
import { FakeProc, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';
import { runTwice, warnings } from './run-twice.js';
import { simulateHost } from './sim-host.js';

const base: TimeSettings = { timezone: 'Asia/Seoul', localRTC: false, ntp: true, canNTP: true, ntpSynchronized: true };

describe('time: desired state', () => {
  it('parses timedatectl show', () => {
    assert.deepEqual(parseTimedatectlShow('Timezone=Etc/UTC\nLocalRTC=yes\nCanNTP=no\nNTP=no\nNTPSynchronized=no\nTimeUSec=Mon 2025-01-06\n'), { timezone: 'Etc/UTC', localRTC: true, ntp: false, canNTP: false, ntpSynchronized: false });
  });
  const table: [string, Partial<TimeSettings>, { timezone?: string; ntp: boolean }, string[]][] = [
    ['converged', {}, { timezone: 'Asia/Seoul', ntp: true }, []],
    ['RTC in local time', { localRTC: true }, { ntp: true }, ['RTC in local time: yes -> no']],
    ['other zone', { timezone: 'Etc/UTC' }, { timezone: 'Asia/Seoul', ntp: true }, ['timezone: Etc/UTC -> Asia/Seoul']],
    ['zone not configured: left alone', { timezone: 'Etc/UTC' }, { ntp: true }, []],
    ['NTP off', { ntp: false }, { ntp: true }, ['NTP: off -> on']],
    ['NTP off, not wanted', { ntp: false }, { ntp: false }, []],
    ['NTP off, no NTP service (CanNTP=no): not a change', { ntp: false, canNTP: false }, { ntp: true }, []],
  ];
  for (const [name, live, want, expected] of table) {
    it(name, () => {
      const got = timeChanges({ ...base, ...live }, want).map((c) => (c.kind === 'value' ? `${c.name}: ${c.live} -> ${c.wanted}` : ''));
      assert.deepEqual(got, expected);
    });
  }
});

describe('time step', () => {
  it('runs the three timedatectl settings once, publishes NTPSynchronized, then is ok', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const { first } = await runTwice(timeStep, ctx, sim.proc);
    assert.equal(first.state, 'change');
    assert.equal(ctx.published.ntpSynchronized, true);
  });
  it('is skipped with a warning where timedatectl is missing (no systemd)', async () => {
    const t = tempRoot();
    after(t.cleanup);
    const ctx = stepContext(t.files, new FakeProc(), testConfig());
    const r = await timeStep.check(ctx);
    assert.equal(r.state, 'skip');
    assert.match(warnings(ctx)[0], /timedatectl is not installed/);
  });
  it('is skipped with a warning when timedatectl fails (no timedated on the bus)', async () => {
    const t = tempRoot();
    after(t.cleanup);
    const proc = new FakeProc().on('timedatectl show', { exitCode: 1, stderr: 'Failed to connect to bus: No such file or directory' });
    const ctx = stepContext(t.files, proc, testConfig());
    const r = await timeStep.check(ctx);
    assert.equal(r.state, 'skip');
    assert.match(warnings(ctx)[0], /Failed to connect to bus/);
  });
  it('warns once per run when no NTP service exists', async () => {
    const t = tempRoot();
    after(t.cleanup);
    const proc = new FakeProc().on('timedatectl show', { stdout: 'Timezone=Etc/UTC\nLocalRTC=no\nCanNTP=no\nNTP=no\nNTPSynchronized=no\n' });
    const ctx = stepContext(t.files, proc, testConfig());
    assert.equal((await timeStep.check(ctx)).state, 'ok');
    await timeStep.check(ctx);
    assert.deepEqual(warnings(ctx), ['time: no NTP service is installed (timedatectl CanNTP=no): the clock is not kept in sync']);
    assert.equal(ctx.published.ntpSynchronized, false);
  });
  it('names the zone when set-timezone fails', async () => {
    const t = tempRoot();
    after(t.cleanup);
    const proc = new FakeProc().on('timedatectl show', { stdout: 'Timezone=Etc/UTC\nLocalRTC=no\nNTP=yes\n' }).on(/^timedatectl set-timezone/, { exitCode: 1, stderr: 'Failed to set time zone: Invalid or not installed time zone' });
    const ctx = stepContext(t.files, proc, testConfig({ ...testConfig().agent, host: { ...testConfig().agent.host, timezone: 'Mars/Olympus' } }));
    const r = await timeStep.check(ctx);
    assert.equal(r.state, 'change');
    await assert.rejects(timeStep.apply(ctx, r.state === 'change' ? r.changes : []), /timezone -> Mars\/Olympus failed.*Invalid or not installed/);
  });
});
