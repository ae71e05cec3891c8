import { Gauge, type Registry } from 'prom-client';
import type { StatusModel } from './model.js';

interface PublishedUpgrade {
  state?: string;
  from?: string;
  to?: string;
  at?: string;
  stoppedAt?: string;
  done?: string[];
  actions?: string[];
}

// The in-place upgrade as /status shows it (published.upgrade): one series with the
// versions, the state (pending, running, stopped, refused, done) and the action it is at
// or stopped at, so an alert can say where a fleet's upgrade stopped. Versions and
// action ids only: nothing secret.
export function registerUpgradeMetrics(registry: Registry, model: StatusModel): void {
  new Gauge({
    registers: [registry],
    name: 'joinagent_upgrade_state',
    help: 'the last in-place upgrade: 1 for its from/to versions, state and the action it is at (stopped at)',
    labelNames: ['from', 'to', 'state', 'action'],
    collect() {
      this.reset();
      const u = model.doc.published.upgrade as PublishedUpgrade | undefined;
      if (u?.from && u.to && u.state) this.set({ from: u.from, to: u.to, state: u.state, action: u.stoppedAt ?? u.at ?? '' }, 1);
    },
  });
  new Gauge({
    registers: [registry],
    name: 'joinagent_upgrade_actions_done',
    help: 'actions of the last in-place upgrade recorded as done',
    collect() {
      const u = model.doc.published.upgrade as PublishedUpgrade | undefined;
      this.set(u?.state === 'done' ? (u.actions?.length ?? 0) : (u?.done?.length ?? 0));
    },
  });
}
