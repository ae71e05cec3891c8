import { EventBus } from '../engine/events.js';
import type { Change } from '../engine/step.js';
import type { Agent } from './converge.js';

export interface ReconcileSummary {
  /** Steps whose check found a difference (repaired or not). */
  drifted: string[];
  repaired: string[];
  failed: string[];
}

// One drift pass over every step of a converged node: check each step again; with
// reconcile.mode `repair` the engine applies and verifies what differs, with `report` it
// only checks. The pass runs on a private bus so it does not rewrite the step table of
// /status (which shows how the node converged); what it finds becomes one `drift` event
// per step, which /status, logs and metrics pick up. Progress, warnings and published
// values (node Ready, ...) are passed through so status stays current.
export async function reconcileOnce(agent: Agent): Promise<ReconcileSummary> {
  const report = agent.config.agent.reconcile.mode === 'report';
  const priv = new EventBus();
  const found = new Map<string, Change[]>();
  priv.on((e) => {
    switch (e.type) {
      case 'step-checked':
        if (e.result.state === 'change') found.set(e.id, e.result.changes);
        return;
      case 'run-start':
      case 'run-end':
      case 'step-progress':
      case 'warning':
      case 'published':
        agent.bus.emit(e);
        return;
      default:
        return;
    }
  });
  const r = await agent.converge('reconcile', agent.steps(), { bus: priv, checkOnly: report });
  const summary: ReconcileSummary = { drifted: [], repaired: [], failed: [] };
  for (const o of r.outcomes) {
    if (o.message?.startsWith('not run')) continue; // stopped, or behind a failed step: not checked
    if (o.state === 'changed') {
      summary.drifted.push(o.id);
      if (!report) summary.repaired.push(o.id);
      agent.bus.emit({ type: 'drift', id: o.id, changes: o.changes, repaired: !report });
    } else if (o.state === 'failed') {
      summary.failed.push(o.id);
      if (found.has(o.id)) summary.drifted.push(o.id);
      agent.bus.emit({ type: 'drift', id: o.id, changes: found.get(o.id) ?? [], repaired: false, error: o.message ?? 'failed', hint: o.hint });
    } else {
      agent.bus.emit({ type: 'drift', id: o.id, changes: [], repaired: false });
    }
  }
  return summary;
}
