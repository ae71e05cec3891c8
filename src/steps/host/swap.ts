import type { Change, Step, StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { commandChange, fileChange, runCommandChanges, warnOnce, writeFileChanges } from './file-change.js';

export const FSTAB_MARK = '# joinagent: ';
export const ZRAM_CONF = '/etc/systemd/zram-generator.conf';
const ZRAM_SOURCES = [ZRAM_CONF, '/run/systemd/zram-generator.conf', '/usr/local/lib/systemd/zram-generator.conf', '/usr/lib/systemd/zram-generator.conf'];
const ZRAM_GENERATOR = '/usr/lib/systemd/system-generators/zram-generator';

// zram-generator reads the first main config found (/etc before /usr/lib) and creates a
// device per [zramN] section: a file without sections creates none. This is the
// documented way to turn off Fedora's default zram swap without removing the package.
export const ZRAM_DISABLED = '# joinagent: no [zramN] section, so zram-generator creates no zram swap.\n# kubelet refuses to start while swap is on (failSwapOn).\n';

// fstab with every swap entry commented out (never deleted: the operator can see and
// restore it). The runbook's `sed '/swap/d'` also deletes any line that merely mentions
// "swap", such as a mount at /mnt/swapdata; we look at the type field only.
export function commentSwapLines(fstab: string): string {
  return fstab
    .split('\n')
    .map((line) => {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) return line;
      const fields = t.split(/\s+/);
      return fields[2] === 'swap' ? FSTAB_MARK + line : line;
    })
    .join('\n');
}

// Active swap areas from /proc/swaps (octal escapes such as \040 decoded).
export function parseProcSwaps(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean)
    .map((n) => n.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

// Swap units that are not masked yet, from `systemctl list-units --type swap --all`.
export function unmaskedSwapUnits(listUnits: string): string[] {
  return listUnits
    .split('\n')
    .map((l) => l.trim().replace(/^[●*]\s*/, '').split(/\s+/))
    .filter((f) => f[0]?.endsWith('.swap') && f[1] !== 'masked')
    .map((f) => f[0]);
}

// Whether a zram-generator config file defines any device.
export function zramDefinesDevice(text: string): boolean {
  return /^\s*\[zram\d+\]/m.test(text);
}

// swap: off now, commented out in fstab, units masked (systemd would otherwise activate
// a generated or explicit .swap unit at boot) and zram swap disabled.
export const swapStep: Step = {
  id: 'swap',
  title: 'swap off (now and at boot)',
  phase: 'host',
  async check(ctx) {
    if (ctx.config.agent.host.swap === 'leave') return { state: 'skip', reason: 'host.swap: leave' };
    const changes: Change[] = [];
    const fstab = await ctx.files.read(paths.fstab);
    if (fstab !== null) {
      const c = await fileChange(ctx, paths.fstab, commentSwapLines(fstab));
      if (c) changes.push(c);
    }
    const zram = await zramChange(ctx);
    if (zram) changes.push(zram);
    for (const unit of await swapUnits(ctx)) changes.push(commandChange(['systemctl', 'mask', unit], [['systemctl', 'unmask', unit]]));
    for (const dev of parseProcSwaps((await ctx.files.read('/proc/swaps')) ?? '')) {
      // /proc/swaps is not namespaced: inside a container it lists the host's swap, which
      // only the host can turn off
      if (await ctx.files.exists(dev)) changes.push(commandChange(['swapoff', dev], [['swapon', dev]]));
      else warnOnce(ctx, `swap: ${dev} is active but not visible on this system (a container sees the host's swap)`, `turn it off where it lives (swapoff ${dev} on the host); kubelet refuses to start while swap is on`);
    }
    return changes.length ? { state: 'change', changes } : { state: 'ok', message: 'no swap' };
  },
  async apply(ctx, changes) {
    await writeFileChanges(ctx, changes);
    await runCommandChanges(ctx, 'swap', changes, (argv) => (argv[0] === 'swapoff' ? 'swapoff needs enough free memory to take the swapped pages back: free memory or stop workloads, then retry' : 'check systemctl status of the swap unit'), { timeoutMs: 300_000 });
  },
};

// systemctl may be absent (containers, tests): then there are no units to mask.
async function swapUnits(ctx: StepContext): Promise<string[]> {
  const r = await ctx.proc.probe('systemctl', ['list-units', '--type', 'swap', '--all', '--plain', '--no-legend'], { allowFailure: true });
  return r.exitCode === 0 ? unmaskedSwapUnits(r.stdout) : [];
}

// The override is written only where zram-generator is installed or configured, and
// only while the effective config still defines a device.
async function zramChange(ctx: StepContext): Promise<Change | null> {
  let effective: string | null = null;
  for (const p of ZRAM_SOURCES) {
    effective = await ctx.files.read(p);
    if (effective !== null) break;
  }
  const installed = effective !== null || (await ctx.files.exists(ZRAM_GENERATOR));
  if (!installed) return null;
  // no main config at all: the package's built-in default (Fedora) may still create zram0
  if (effective !== null && !zramDefinesDevice(effective)) return null;
  return fileChange(ctx, ZRAM_CONF, ZRAM_DISABLED);
}
