import { dropCopies, secretCopies } from '../host/backup-manifest.js';
import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import type { Proc } from '../host/proc.js';
import type { Outcome } from './install.js';
import { serviceState, UNIT } from './systemctl.js';

// Reverses install: stop (waits for the agent's safe point), disable, remove the unit and
// the binary. The config holds site data (and maybe the token), so it goes only with
// purge. The node stays joined and prepared: undoing that is `kubeadm reset`'s job.
// Like install, a second run finds nothing to do and runs nothing.
export async function uninstall(files: Files, proc: Proc, o: { purge: boolean }): Promise<Outcome> {
  const out: Outcome = { actions: [], notes: [] };
  const booted = await files.exists(paths.systemdRunning);
  const run = async (...args: string[]): Promise<void> => {
    // a stop waits for a running package transaction: up to the unit's TimeoutStopSec
    await proc.run('systemctl', args, { timeoutMs: 20 * 60_000 });
    out.actions.push(`systemctl ${args.join(' ')}`);
  };
  const st = await serviceState(proc, booted);
  if (st.running) await run('stop', UNIT);
  if (st.active === 'failed') await run('reset-failed', UNIT);
  if (st.enabled) await run('disable', UNIT);
  if (await files.remove(paths.unit, { backup: false })) {
    out.actions.push(`removed ${paths.unit}`);
    if (booted) await run('daemon-reload');
  }
  if (await files.remove(paths.binary, { backup: false })) out.actions.push(`removed ${paths.binary}`);
  if (o.purge) {
    for (const p of [paths.config, paths.tokenFile, paths.defaults]) {
      if (await files.remove(p, { backup: false })) out.actions.push(`removed ${p}`);
    }
    // copies an older joinagent kept of a config with an inline token
    const copies = await secretCopies(files);
    if (copies.length) {
      await dropCopies(files, copies);
      out.actions.push(`removed ${copies.length} backup cop${copies.length === 1 ? 'y' : 'ies'} holding a bootstrap token from ${paths.backupDir}`);
    }
  } else if (await files.exists(paths.config)) {
    out.notes.push(`kept ${paths.config} (uninstall --purge removes it)`);
  }
  for (const p of paths.packageUnits) {
    if (await files.exists(p)) out.notes.push(`${p} belongs to the joinagent package: remove the package with apt or dnf`);
  }
  return out;
}
