import type http from 'node:http';
import { EventBus, type AgentEvent } from '../engine/events.js';
import type { MetricsOptions } from './metrics.js';
import type { StatusModel } from './model.js';

type Route = (res: http.ServerResponse) => Promise<void>;

// prom-client takes tens of milliseconds to load, time in which the agent could not answer
// /status. Events are recorded from the start and replayed into the real metrics once
// prom-client is loaded: at the first scrape, or when the agent has been up a while.
export function lazyMetrics(bus: EventBus, model: StatusModel, opts: MetricsOptions, loadAfterMs = 3000): { route: Route; stop: () => void } {
  const mirror = new EventBus();
  let buffer: AgentEvent[] | undefined = [];
  bus.on((e) => (buffer ? buffer.push(e) : mirror.emit(e)));
  let loading: Promise<Route> | undefined;
  const load = (): Promise<Route> =>
    (loading ??= import('./metrics.js').then(({ createMetrics }) => {
      const m = createMetrics(mirror, model, opts);
      for (const e of buffer ?? []) mirror.emit(e);
      buffer = undefined;
      return m.route;
    }));
  const timer = setTimeout(() => void load(), loadAfterMs);
  timer.unref();
  return { route: async (res) => (await load())(res), stop: () => clearTimeout(timer) };
}
