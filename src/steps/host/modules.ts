import type { Change, Step, StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { commandChange, fileChange, runCommandChanges, writeFileChanges } from './file-change.js';

export const KERNEL_MODULES = ['overlay', 'br_netfilter'] as const;

// /etc/modules-load.d/k8s.conf: systemd-modules-load loads these at every boot, before
// systemd-sysctl applies the bridge keys that only exist once br_netfilter is loaded.
export function renderModulesConf(): string {
  return '# joinagent: kernel modules containerd (overlay) and kube-proxy/CNI (br_netfilter) need\n' + KERNEL_MODULES.join('\n') + '\n';
}

// Whether a module's feature is present now, whether loaded or built into the kernel.
// Built-in modules make `modprobe` fail (no /lib/modules entry), so we look at what the
// feature exposes instead: overlay in /proc/filesystems, br_netfilter's sysctl directory.
export async function moduleAvailable(ctx: StepContext, mod: (typeof KERNEL_MODULES)[number]): Promise<boolean> {
  if (mod === 'overlay') return /^\S*\s+overlay$/m.test((await ctx.files.read('/proc/filesystems')) ?? '');
  return ctx.files.exists('/proc/sys/net/bridge');
}

// modules: overlay and br_netfilter available now and at boot.
export const modulesStep: Step = {
  id: 'modules',
  title: 'kernel modules overlay and br_netfilter',
  phase: 'host',
  async check(ctx) {
    const changes: Change[] = [];
    const conf = await fileChange(ctx, paths.modulesConf, renderModulesConf());
    if (conf) changes.push(conf);
    for (const mod of KERNEL_MODULES) if (!(await moduleAvailable(ctx, mod))) changes.push(commandChange(['modprobe', mod]));
    return changes.length ? { state: 'change', changes } : { state: 'ok', message: 'overlay and br_netfilter available' };
  },
  async apply(ctx, changes) {
    await writeFileChanges(ctx, changes);
    await runCommandChanges(ctx, 'modules', changes, (argv) => `install the kernel's modules package for ${ctx.facts.kernel} (linux-modules-extra / kernel-modules), or use a kernel with ${argv[1]} built in`);
  },
};
