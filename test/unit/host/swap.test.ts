import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { commentSwapLines, parseProcSwaps, swapStep, unmaskedSwapUnits, ZRAM_CONF, ZRAM_DISABLED, zramDefinesDevice } from '../../../src/steps/host/swap.js';
import { stepContext, testConfig } from '../../helpers/fakes.js';
import { runTwice, warnings } from './run-twice.js';
import { MESSY_FSTAB, simulateHost } from './sim-host.js';

describe('swap: commentSwapLines', () => {
  const out = commentSwapLines(MESSY_FSTAB);
  it('comments out the UUID swap line and the swap file, keeping them', () => {
    assert.match(out, /^# joinagent: UUID=5b2c1ee7-3e0b-4a3c-9c0d-0c3f1d1e2f3a none {12}swap {4}sw/m);
    assert.match(out, /^# joinagent: \/swapfile\tnone\tswap\tdefaults\t0\t0$/m);
  });
  it('leaves the root fs, comments and a mount that merely mentions "swap" alone', () => {
    const untouched = MESSY_FSTAB.split('\n').filter((l) => !/\sswap\s/.test(l) || l.startsWith('#'));
    for (const l of untouched) assert.ok(out.split('\n').includes(l), `line changed: ${l}`);
    assert.match(out, /^\/dev\/sdb1 +\/mnt\/swapdata/m);
    assert.match(out, /^#\/dev\/sdc1 none swap sw 0 0$/m);
  });
  it('is idempotent (no double prefix) and keeps the line count', () => {
    assert.equal(commentSwapLines(out), out);
    assert.equal(out.split('\n').length, MESSY_FSTAB.split('\n').length);
  });
  it('handles an empty file and a file without a final newline', () => {
    assert.equal(commentSwapLines(''), '');
    assert.equal(commentSwapLines('/dev/sda2 none swap sw 0 0'), '# joinagent: /dev/sda2 none swap sw 0 0');
  });
});

describe('swap: parsers', () => {
  it('parses /proc/swaps, decoding octal escapes', () => {
    const text = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/zram0                              partition\t8388604\t\t0\t\t100\n/var/swap\\040file                        file\t\t1048572\t\t0\t\t-2\n';
    assert.deepEqual(parseProcSwaps(text), ['/dev/zram0', '/var/swap file']);
    assert.deepEqual(parseProcSwaps('Filename\tType\tSize\tUsed\tPriority\n'), []);
  });
  it('lists swap units not masked yet', () => {
    const text = 'dev-zram0.swap loaded active active Compressed Swap on /dev/zram0\nswapfile.swap masked inactive dead swapfile.swap\n● dev-sda2.swap not-found inactive dead dev-sda2.swap\n';
    assert.deepEqual(unmaskedSwapUnits(text), ['dev-zram0.swap', 'dev-sda2.swap']);
  });
  it('zram config defines a device only with a [zramN] section', () => {
    assert.equal(zramDefinesDevice('[zram0]\nzram-size = min(ram, 8192)\n'), true);
    assert.equal(zramDefinesDevice(ZRAM_DISABLED), false);
  });
});

describe('swap step', () => {
  it('swapoff, mask, fstab commented, zram disabled; second run ok', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    await sim.files.write('/usr/lib/systemd/zram-generator.conf', '[zram0]\nzram-size = min(ram, 8192)\n');
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const { first } = await runTwice(swapStep, ctx, sim.proc);
    assert.deepEqual(first.state === 'change' && first.changes.filter((c) => c.kind === 'action').map((c) => c.kind === 'action' && c.description), [
      'run: systemctl mask swapfile.swap',
      "run: systemctl mask 'dev-disk-by\\x2duuid-5b2c1ee7.swap'",
      'run: swapoff /swapfile',
    ]);
    assert.equal(await sim.files.read(ZRAM_CONF), ZRAM_DISABLED);
    assert.equal(await sim.files.read('/etc/fstab'), commentSwapLines(MESSY_FSTAB));
  });
  // issue 17 item 5: a planned command was one string split back on spaces
  it('a swap file with a space in its name is turned off by that name, shown quoted', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    await sim.files.write('/proc/swaps', 'Filename\tType\tSize\tUsed\tPriority\n/swap\\040file file 1048572 0 -2\n');
    await sim.files.write('/swap file', '');
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await swapStep.check(ctx);
    assert.ok(r.state === 'change' && r.changes.some((c) => c.kind === 'action' && c.description === "run: swapoff '/swap file'"), JSON.stringify(r));
    sim.proc.reset();
    await swapStep.apply(ctx, r.state === 'change' ? r.changes : []);
    const swapoff = sim.proc.calls.filter((c) => c.file === 'swapoff');
    assert.deepEqual(swapoff.map((c) => c.args), [['/swap file']]);
  });
  it('keeps a backup of the original fstab', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    await runTwice(swapStep, stepContext(sim.files, sim.proc, sim.config, sim.facts), sim.proc);
    const manifest = JSON.parse((await sim.files.read('/var/lib/joinagent/backup/manifest.json'))!);
    assert.equal(await sim.files.read(manifest['/etc/fstab'].original), MESSY_FSTAB);
  });
  it('zram-generator installed without a config: the override is written', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    await sim.files.write('/usr/lib/systemd/system-generators/zram-generator', '#!/bin/true\n');
    const r = await swapStep.check(stepContext(sim.files, sim.proc, sim.config, sim.facts));
    assert.ok(r.state === 'change' && r.changes.some((c) => c.kind === 'file' && c.path === ZRAM_CONF));
  });
  it('host.swap: leave touches nothing', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    const c = testConfig({ ...sim.config.agent, host: { ...sim.config.agent.host, swap: 'leave' } });
    assert.deepEqual(await swapStep.check(stepContext(sim.files, sim.proc, c, sim.facts)), { state: 'skip', reason: 'host.swap: leave' });
  });
  it('a failing swapoff names the device and the way out', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    sim.proc.on(/^swapoff/, { exitCode: 255, stderr: 'swapoff: /swapfile: swapoff failed: Cannot allocate memory' });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await swapStep.check(ctx);
    await assert.rejects(swapStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: Error & { hint?: string }) => /swapoff \/swapfile exited 255.*Cannot allocate memory/.test(e.message) && /free memory/.test(e.hint ?? ''));
  });
});

describe('swap step in a container', () => {
  it("the host's swap (listed in /proc/swaps, absent here) is a warning, not a failing swapoff", async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    await sim.files.write('/proc/swaps', 'Filename\tType\tSize\tUsed\tPriority\n/dev/sda2 partition 1048572 0 -2\n');
    await sim.files.write('/etc/fstab', '');
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await swapStep.check(ctx);
    assert.ok(r.state === 'change' && !r.changes.some((c) => c.kind === 'action' && c.description.includes('swapoff')));
    assert.match(warnings(ctx)[0], /\/dev\/sda2 is active but not visible/);
  });
});
