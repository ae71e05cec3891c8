import type { Proc } from '../host/proc.js';

export const UNIT = 'joinagent.service';

export interface ServiceState {
  enabled: boolean;
  /** active, activating (joining, or waiting to restart), reloading or deactivating. */
  running: boolean;
  active: string;
}

const RUNNING = new Set(['active', 'activating', 'reloading', 'deactivating', 'refreshing']);
const ENABLED = new Set(['enabled', 'enabled-runtime', 'linked', 'linked-runtime', 'alias']);

// Read-only questions to systemctl; their exit codes are answers, not failures. Without a
// running systemd (chroot, image build) nothing runs, so only is-enabled is asked.
export async function serviceState(proc: Proc, booted: boolean): Promise<ServiceState> {
  const enabled = await proc.probe('systemctl', ['is-enabled', UNIT], { allowFailure: true });
  const active = booted ? (await proc.probe('systemctl', ['is-active', UNIT], { allowFailure: true })).stdout.trim() : 'inactive';
  return { enabled: ENABLED.has(enabled.stdout.trim()), running: RUNNING.has(active), active };
}
