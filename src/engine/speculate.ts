import type { CheckResult, Step, StepContext } from './step.js';

// Checks run ahead of their prerequisites. On a converged host (a re-run, a reconcile
// pass) nearly every check says ok, and a chain like packages -> containerd config ->
// runtime -> images -> join would otherwise wait for each probe in turn. A check is
// read-only, so running it early is harmless; its result is used only if nothing it
// could depend on moved meanwhile:
// - no step applied anything from the moment the guess started until it is used (the
//   host epoch below). Dependencies are not enough: node-ready depends only on join, yet
//   containerd-config's restart breaks what it observed; and a guess that failed because
//   another step was restarting a service says nothing about the host afterwards;
// - every prerequisite ended ok or skipped (changed nothing on the host), and
// - every `published` value it read is still the same (steps pass facts that way).
// Its progress, warnings and publications are held back and replayed when it is used,
// so a discarded guess leaves no trace in logs or /status.
export interface Speculation {
  /** The early result with its reports replayed into the real context, or undefined when
   *  it is stale (then the step checks again). A check that threw rethrows here. */
  use(ctx: StepContext, prerequisites: ({ state: string } | undefined)[]): Promise<CheckResult | undefined>;
  settled: Promise<unknown>;
}

// Counts host changes: the engine bumps it when any apply() starts and when it ends, so
// a guess is current only if the epoch it started in is still the epoch when it is used
// and no apply was under way when it started.
export class HostEpoch {
  n = 0;
  applying = 0;
  async around<T>(f: () => Promise<T>): Promise<T> {
    this.n++;
    this.applying++;
    try {
      return await f();
    } finally {
      this.applying--;
      this.n++;
    }
  }
}

export function speculate(step: Step, base: Omit<StepContext, 'progress'>, epoch: HostEpoch = new HostEpoch()): Speculation {
  const startedIn = epoch.applying === 0 ? epoch.n : -1;
  const calls: ((ctx: StepContext) => void)[] = [];
  const own: Record<string, unknown> = {};
  const read = new Map<string, string>();
  const published = new Proxy(base.published, {
    get(target, key) {
      if (typeof key !== 'string') return Reflect.get(target, key);
      if (key in own) return own[key];
      if (!read.has(key)) read.set(key, JSON.stringify(target[key]) ?? 'undefined');
      return target[key];
    },
    has(target, key) {
      if (typeof key === 'string' && !(key in own) && !read.has(key)) read.set(key, JSON.stringify(target[key]) ?? 'undefined');
      return key in own || key in target;
    },
  });
  const ctx: StepContext = {
    ...base,
    published,
    progress: (m) => void calls.push((c) => c.progress(m)),
    warn: (m, h) => void calls.push((c) => c.warn(m, h)),
    publish: (k, v) => {
      own[k] = v;
      calls.push((c) => c.publish(k, v));
    },
  };
  const result = step.check(ctx);
  const settled = result.catch(() => undefined); // judged when used; never an unhandled rejection
  return {
    settled,
    async use(real, prerequisites) {
      if (!prerequisites.every((o) => o?.state === 'ok' || o?.state === 'skipped')) return undefined;
      await settled;
      // the host changed since the guess looked (or was changing while it looked): stale,
      // whether it said ok or threw
      if (startedIn !== epoch.n) return undefined;
      for (const [k, v] of read) if ((JSON.stringify(real.published[k]) ?? 'undefined') !== v) return undefined;
      for (const c of calls) c(real);
      return result;
    },
  };
}
