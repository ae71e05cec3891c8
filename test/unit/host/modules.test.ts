import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { modulesStep, renderModulesConf } from '../../../src/steps/host/modules.js';
import { stepContext } from '../../helpers/fakes.js';
import { COMMENT_PREFIX } from '../../../src/host/markers.js';
import { runTwice, warnings } from './run-twice.js';
import { simulateHost } from './sim-host.js';

describe('modules step', () => {
  it('the boot file lists both modules', () => {
    assert.deepEqual(renderModulesConf().split('\n').filter((l) => l && !l.startsWith('#')), ['overlay', 'br_netfilter']);
  });
  it('built-in modules (Debian nspawn node): no modprobe at all, the boot file still written', async () => {
    const sim = simulateHost('debian');
    after(sim.cleanup);
    sim.proc.on(/^modprobe/, { exitCode: 1, stderr: 'modprobe: FATAL: Module overlay not found in directory /lib/modules/6.1.0' });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const { first } = await runTwice(modulesStep, ctx, sim.proc);
    assert.deepEqual(first.state === 'change' && first.changes.map((c) => c.kind), ['file']);
    assert.equal(await sim.files.read('/etc/modules-load.d/k8s.conf'), renderModulesConf());
    assert.equal(sim.proc.calls.filter((c) => c.file === 'modprobe').length, 0);
  });
  it('loadable modules (Rocky): modprobe each missing one; second run ok', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await modulesStep.check(ctx);
    assert.deepEqual(r.state === 'change' && r.changes.filter((c) => c.kind === 'action').map((c) => c.kind === 'action' && c.description), ['run: modprobe overlay', 'run: modprobe br_netfilter']);
    await runTwice(modulesStep, ctx, sim.proc);
    assert.equal(await sim.files.exists('/proc/sys/net/bridge'), true);
  });
  // issue 17 item 3's class: systemd-modules-load honours modprobe.d's blacklist
  // (KMOD_PROBE_APPLY_BLACKLIST) and install lines: the module would not load at boot
  it('a blacklist or install line that would stop a module at boot is neutralised and reported', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    await sim.files.write('/usr/lib/modprobe.d/50-netfilter.conf', '# vendor\nblacklist br_netfilter\nblacklist floppy\n');
    await sim.files.write('/etc/modprobe.d/hardening.conf', 'install overlay /bin/false\ninstall usb-storage /bin/true\n');
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    await runTwice(modulesStep, ctx, sim.proc);
    assert.equal(await sim.files.read('/etc/modprobe.d/hardening.conf'), `${COMMENT_PREFIX}install overlay /bin/false\ninstall usb-storage /bin/true\n`);
    assert.equal(await sim.files.read('/etc/modprobe.d/50-netfilter.conf'), `# vendor\n${COMMENT_PREFIX}blacklist br_netfilter\nblacklist floppy\n`);
    assert.equal(await sim.files.read('/usr/lib/modprobe.d/50-netfilter.conf'), '# vendor\nblacklist br_netfilter\nblacklist floppy\n', "the package's file is not edited");
    const said = warnings(ctx).join('\n');
    assert.match(said, /modules: \/etc\/modprobe\.d\/hardening\.conf: "install overlay \/bin\/false" stops overlay from loading at boot: joinagent comments that line out/);
    assert.match(said, /modules: \/usr\/lib\/modprobe\.d\/50-netfilter\.conf: "blacklist br_netfilter" .*: joinagent masks it with \/etc\/modprobe\.d\/50-netfilter\.conf/);
  });
  it('a module blacklisted on the kernel command line is reported (the boot loader is not ours to edit)', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    await sim.files.write('/proc/cmdline', 'BOOT_IMAGE=/vmlinuz ro module_blacklist=floppy,br_netfilter quiet\n');
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    await modulesStep.check(ctx);
    assert.match(warnings(ctx).join('\n'), /kernel command line has module_blacklist=floppy,br_netfilter: br_netfilter will not load at boot/);
  });
  it('a missing module fails naming it, with the package to install', async () => {
    const sim = simulateHost('rhel');
    after(sim.cleanup);
    sim.proc.on('modprobe br_netfilter', { exitCode: 1, stderr: 'modprobe: FATAL: Module br_netfilter not found' });
    const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
    const r = await modulesStep.check(ctx);
    await assert.rejects(modulesStep.apply(ctx, r.state === 'change' ? r.changes : []), (e: Error & { hint?: string }) => /modprobe br_netfilter exited 1/.test(e.message) && /br_netfilter built in/.test(e.hint ?? ''));
  });
});
