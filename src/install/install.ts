import path from 'node:path';
import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import type { Proc } from '../host/proc.js';
import { serviceState, type ServiceState, UNIT } from './systemctl.js';

export interface InstallOptions {
  /** The binary to install (a real path, outside --root); undefined = package-managed. */
  binary?: Buffer;
  unitText: string;
  /** The config to install (real path) and its content. */
  configPath: string;
  config: Buffer;
  now: boolean;
}

export interface Outcome {
  /** What was done, one line each (empty: nothing to do). */
  actions: string[];
  notes: string[];
}

// Puts joinagent in place as a systemd service. Every action runs only when needed (the
// file differs, the unit is not enabled, not running), so a second install changes and
// runs nothing, and a reload happens only when the unit file changed. When a .deb/.rpm
// provides the binary and unit, only the config, enable and start are ours to do.
export async function install(files: Files, proc: Proc, o: InstallOptions): Promise<Outcome> {
  const out: Outcome = { actions: [], notes: [] };
  const packaged = await packagedUnit(files);
  let binaryChanged = false;
  let unitChanged = false;
  if (packaged) {
    out.notes.push(`the joinagent package provides ${packaged} and ${paths.packageBinary}: not copying the binary or the unit`);
  } else {
    if (o.binary) binaryChanged = (await files.write(paths.binary, o.binary, { mode: 0o755, backup: false })).changed;
    if (binaryChanged) out.actions.push(`installed ${paths.binary} (${Math.round(o.binary!.length / 1e6)} MB)`);
    unitChanged = (await files.write(paths.unit, o.unitText, { mode: 0o644, backup: false })).changed;
    if (unitChanged) out.actions.push(`installed ${paths.unit}`);
  }
  const configChanged = await installConfig(files, o);
  if (configChanged) out.actions.push(`installed ${paths.config} (mode 0600)`);

  const booted = await files.exists(paths.systemdRunning);
  const run = async (...args: string[]): Promise<void> => {
    await proc.run('systemctl', args, { timeoutMs: 120_000 });
    out.actions.push(`systemctl ${args.join(' ')}`);
  };
  if (unitChanged && booted) await run('daemon-reload');
  const st = await serviceState(proc, booted);
  if (!st.enabled) await run('enable', UNIT);
  if (!booted) {
    if (o.now) out.notes.push(`systemd is not running here (no ${paths.systemdRunning}): the unit is enabled and starts at the next boot`);
    return out;
  }
  await startOrRefresh(st, { binaryChanged, unitChanged, configChanged, now: o.now }, run);
  return out;
}

// A running agent picks up a new binary or unit by a restart (it stops at a safe point) and
// a new config by SIGHUP (reload, validated first); a stopped one is started with --no-block:
// the unit is Type=notify and becomes active only once joined, so a blocking start from
// cloud-init's runcmd would hold the boot until the join.
async function startOrRefresh(st: ServiceState, c: { binaryChanged: boolean; unitChanged: boolean; configChanged: boolean; now: boolean }, run: (...a: string[]) => Promise<void>): Promise<void> {
  if (st.running) {
    if (c.binaryChanged || c.unitChanged) await run('try-restart', '--no-block', UNIT);
    else if (c.configChanged) await run('kill', '--signal=SIGHUP', '--kill-whom=main', UNIT);
  } else if (c.now) {
    await run('start', '--no-block', UNIT);
  }
}

// The config goes to /etc/joinagent/config.yaml, root-only: it may hold the bootstrap
// token. Installing the file that is already there only fixes its mode.
async function installConfig(files: Files, o: InstallOptions): Promise<boolean> {
  await files.mkdir(paths.configDir, 0o700);
  if (path.resolve(o.configPath) === files.resolve(paths.config)) {
    const st = await files.stat(paths.config);
    if (st && st.mode !== 0o600) {
      await files.chmod(paths.config, 0o600);
      return true;
    }
    return false;
  }
  // no backup: the config may hold the token, and it is joinagent's own file, not a host
  // file reset --all restores
  return (await files.write(paths.config, o.config, { mode: 0o600, backup: false })).changed;
}

async function packagedUnit(files: Files): Promise<string | undefined> {
  for (const p of paths.packageUnits) if (await files.exists(p)) return p;
  return undefined;
}
