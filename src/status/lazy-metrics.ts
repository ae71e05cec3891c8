import type http from 'node:http';
import { EventBus, type AgentEvent } from '../engine/events.js';
import type { MetricsOptions } from './metrics.js';
import type { StatusModel } from './model.js';

type Route = (res: http.ServerResponse) => Promise<void>;

/** Events kept for the replay before prom-client is loaded; reaching it loads prom-client. */
export const MAX_BUFFERED_EVENTS = 1000;

// prom-client and its default process metrics cost start-up time and ~2 MiB of heap, and
// many nodes are never scraped. It loads at the first scrape of /metrics; until then the
// events the metrics are derived from are kept and replayed into the real metrics, so a
// first scrape an hour later shows the same counters as one that came early. The buffer
// is bounded: reaching MAX_BUFFERED_EVENTS loads prom-client (a daemon reconciling every
// 5 minutes adds 2 events a pass: about 40 hours).
export function lazyMetrics(bus: EventBus, model: StatusModel, opts: MetricsOptions, maxBuffered = MAX_BUFFERED_EVENTS): { route: Route; loaded: () => boolean } {
  const mirror = new EventBus();
  let buffer: AgentEvent[] | undefined = [];
  let loading: Promise<Route> | undefined;
  const load = (): Promise<Route> =>
    (loading ??= import('./metrics.js').then(({ createMetrics }) => {
      const m = createMetrics(mirror, model, opts);
      for (const e of buffer ?? []) mirror.emit(e);
      buffer = undefined;
      return m.route;
    }));
  bus.on((e) => {
    if (!buffer) return mirror.emit(e);
    if (!countsForMetrics(e)) return;
    buffer.push(e);
    if (buffer.length >= maxBuffered) void load();
  });
  return { route: async (res) => (await load())(res), loaded: () => buffer === undefined };
}

// Whether createMetrics() reads anything from the event: logs-only events, and the
// per-step "no drift" verdicts of every reconcile pass, are not kept for the replay.
export function countsForMetrics(e: AgentEvent): boolean {
  switch (e.type) {
    case 'run-start':
    case 'step-start':
    case 'step-retry':
    case 'step-end':
    case 'run-end':
    case 'config-reload':
      return true;
    case 'drift':
      return e.changes.length > 0 || e.repaired || e.error !== undefined;
    default:
      return false;
  }
}
