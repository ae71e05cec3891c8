import type { StatusDocument } from './model.js';

// An in-place upgrade changes what "ready" means: a node whose config asks for a newer
// version is not done until the upgrade is, so `joinagent status --wait` (the Ansible
// rollout's gate) blocks through it and fails when it stops. Applied when the upgrade
// step (or a reload that changed kubernetesVersion) publishes `upgrade`.
export function applyUpgradeStatus(d: StatusDocument, value: unknown): void {
  const u = value as { state?: string; from?: string; to?: string; stoppedAt?: string; reason?: string; error?: string } | undefined;
  switch (u?.state) {
    case 'pending':
    case 'running':
      d.ready = false;
      d.phase = 'upgrading';
      d.reason = `upgrading ${u.from ?? 'this node'} -> ${u.to}`;
      return;
    case 'stopped':
    case 'refused':
      d.ready = false;
      d.phase = 'failed';
      d.reason = u.state === 'stopped' ? `upgrade ${u.from} -> ${u.to} stopped at ${u.stoppedAt}: ${u.error}` : `upgrade ${u.from} -> ${u.to} refused: ${u.reason}`;
      return;
    case 'done':
    case 'current':
      // only ends what an upgrade started: a run in progress keeps its own phase
      if (d.phase !== 'upgrading') return;
      d.ready = d.joined;
      d.phase = d.joined ? 'ready' : d.phase;
      d.reason = undefined;
      return;
    default:
      return;
  }
}
