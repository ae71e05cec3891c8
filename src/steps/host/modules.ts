import type { Change, Step, StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { effectiveConfFiles, neutraliseLines } from './boot-config.js';
import { commandChange, fileChange, runCommandChanges, warnOnce, writeFileChanges } from './file-change.js';

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
    // a module that loads now but not at boot is not ok
    changes.push(...(await neutraliseBlocks(ctx)));
    for (const mod of KERNEL_MODULES) if (!(await moduleAvailable(ctx, mod))) changes.push(commandChange(['modprobe', mod]));
    return changes.length ? { state: 'change', changes } : { state: 'ok', message: 'overlay and br_netfilter available' };
  },
  async apply(ctx, changes) {
    await writeFileChanges(ctx, changes);
    await runCommandChanges(ctx, 'modules', changes, (argv) => `install the kernel's modules package for ${ctx.facts.kernel} (linux-modules-extra / kernel-modules), or use a kernel with ${argv[1]} built in`);
  },
};

export const MODPROBE_DIRS = ['/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/usr/lib/modprobe.d', '/lib/modprobe.d'];

// The module a modprobe.d line keeps from loading: "blacklist MOD" (systemd-modules-load
// loads with KMOD_PROBE_APPLY_BLACKLIST, so it skips a blacklisted module at boot) or
// "install MOD CMD" (runs CMD, /bin/false or /bin/true, instead of loading it).
export function blockedModule(line: string): string | undefined {
  const m = /^\s*(blacklist|install)\s+(\S+)/.exec(line);
  const mod = m?.[2].replace(/-/g, '_');
  return mod && (KERNEL_MODULES as readonly string[]).includes(mod) ? mod : undefined;
}

async function neutraliseBlocks(ctx: StepContext): Promise<Change[]> {
  const changes: Change[] = [];
  // the kernel command line is the boot loader's: reported, not edited
  const cmdline = (await ctx.files.read('/proc/cmdline')) ?? '';
  for (const m of cmdline.matchAll(/(?:^|\s)(module_blacklist|modprobe\.blacklist)=(\S+)/g)) {
    for (const mod of m[2].split(',').filter((x) => blockedModule(`blacklist ${x}`))) {
      warnOnce(ctx, `modules: the kernel command line has ${m[1]}=${m[2]}: ${mod} will not load at boot`, `remove ${mod} from it in the boot loader configuration (GRUB_CMDLINE_LINUX in /etc/default/grub), then update the boot loader`);
    }
  }
  for (const f of await effectiveConfFiles(ctx, MODPROBE_DIRS)) {
    const bad = f.text.split('\n').filter((l) => blockedModule(l));
    if (!bad.length) continue;
    const n = await neutraliseLines(ctx, f, '/etc/modprobe.d', (l) => blockedModule(l) !== undefined);
    if (n.change) changes.push(n.change);
    for (const l of bad) {
      warnOnce(ctx, `modules: ${f.path}: "${l.trim()}" stops ${blockedModule(l)} from loading at boot: ${n.masked ? `joinagent masks it with ${n.target}, a copy with that line commented out` : 'joinagent comments that line out'}`, "the original is kept in joinagent's backups");
    }
  }
  return changes;
}
