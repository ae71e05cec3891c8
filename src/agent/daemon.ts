import { ConfigError, formatProblems, loadConfig, type LoadResult } from '../config/load.js';
import { joinedOnDisk } from '../join/local.js';
import { refreshToken } from '../config/token-refresh.js';
import { backoffDelay } from '../engine/retry.js';
import { withClusterVersion } from '../join/cluster-version.js';
import type { RetryPolicy } from '../engine/step.js';
import type { Agent } from './converge.js';
import { systemdNotifier, type Notifier } from './notify.js';
import { reconcileOnce } from './reconcile.js';

export interface DaemonOptions {
  /** Back-off between whole runs while the node cannot converge (control plane down). */
  retry?: RetryPolicy;
  random?: () => number;
  notifier?: Notifier;
  /** Loads and validates the config again (SIGHUP); throws ConfigError on a bad one. */
  loadConfig: () => Promise<LoadResult>;
}

// 5s, 10s, 20s ... capped at 5 minutes, with jitter so a fleet booted together does not
// hit a recovering control plane in lock-step.
export const RUN_RETRY: RetryPolicy = { attempts: Infinity, baseMs: 5000, maxMs: 300_000 };
const MAX_TIMER_MS = 2 ** 31 - 1;

// Daemon mode (`run` without --once) wired to the process: SIGTERM/SIGINT stop at a safe
// point and exit 0, SIGHUP reloads the config. Returns the exit code (0: stopped cleanly).
export async function runDaemon(agent: Agent, configFile: string): Promise<number> {
  // the same rule as at start: a joined node needs no token, and join-cleanup removed the
  // join.tokenFile the config names, so requiring it refused every reload once joined
  const reloadConfig = async (): Promise<LoadResult> => {
    const r = await loadConfig(configFile, { requireToken: agent.opts.stepSet === 'run' && !(await joinedOnDisk(agent.opts.root)) });
    return { ...r, config: await withClusterVersion(r.config) };
  };
  const daemon = new Daemon(agent, { loadConfig: reloadConfig, notifier: systemdNotifier(agent.proc) });
  const stop = (): void => daemon.stop();
  const hup = (): void => void daemon.reload();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', hup);
  try {
    return await daemon.run();
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    process.off('SIGHUP', hup);
    await agent.stop();
  }
}

// The loop: converge until joined (retrying the whole run with back-off), tell systemd
// READY, then every reconcile.interval check every step for drift. The interval is read
// from the config on each pass, so a reload (or a test config with `1s`) takes effect.
export class Daemon {
  private wake?: () => void;
  private reloaded = false;
  private readonly notifier: Notifier;

  constructor(
    readonly agent: Agent,
    readonly opts: DaemonOptions,
  ) {
    this.notifier = opts.notifier ?? systemdNotifier(agent.proc, {});
    agent.bus.on((e) => {
      if (e.type === 'step-start' && agent.model.doc.agent.mode !== 'reconcile') void this.notifier.send({ status: agent.model.doc.reason ?? 'working' });
    });
  }

  async run(): Promise<number> {
    const { agent } = this;
    const signal = agent.controller.signal;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) await this.refreshToken();
      const r = await agent.converge('run');
      if (signal.aborted) return 0;
      if (r.ok && agent.model.doc.joined) break;
      const delayMs = backoffDelay(this.opts.retry ?? RUN_RETRY, attempt, this.opts.random);
      agent.bus.emit({ type: 'scheduled', action: 'retry', at: new Date(Date.now() + delayMs).toISOString(), delayMs, attempt });
      await this.notifier.send({ status: `not joined: ${agent.model.doc.reason ?? 'failed'}` });
      await this.pause(delayMs);
      if (signal.aborted) return 0;
    }
    await this.notifier.send({ ready: true, status: this.idleStatus() });
    while (!signal.aborted) {
      const interval = agent.config.agent.reconcile.interval;
      agent.bus.emit({ type: 'scheduled', action: 'reconcile', at: new Date(Date.now() + interval).toISOString(), delayMs: interval });
      await this.pause(interval);
      if (signal.aborted) break;
      await this.refreshToken();
      const s = await reconcileOnce(agent);
      const drift = s.drifted.length ? `; drift in ${s.drifted.join(', ')}${s.repaired.length ? ' (repaired)' : ''}` : '';
      await this.notifier.send({ status: this.idleStatus() + drift });
    }
    return 0;
  }

  // SIGTERM: the engine starts no new step once the signal aborts; the running one (an
  // apt transaction, say) finishes and run() returns.
  stop(): void {
    if (this.agent.controller.signal.aborted) return;
    void this.notifier.send({ stopping: true, status: 'stopping' });
    this.agent.controller.abort();
  }

  // SIGHUP: a config that fails validation is refused with every problem logged, and the
  // running one stays. A good one is used from the next pass, which starts now.
  async reload(): Promise<boolean> {
    const file = this.agent.config.file;
    try {
      const r = await this.opts.loadConfig();
      const before = this.agent.config.agent.status.address;
      const version = this.agent.config.agent.kubernetesVersion;
      this.agent.config = r.config;
      // /status stops saying ready at once, not at the next pass: `status --wait` right
      // after the reload waits for the upgrade (the upgrade step publishes the details)
      if (r.config.agent.kubernetesVersion !== version && this.agent.model.doc.joined) {
        this.agent.bus.emit({ type: 'published', key: 'upgrade', value: { state: 'pending', from: version, to: r.config.agent.kubernetesVersion } });
      }
      this.agent.bus.emit({ type: 'config-reload', ok: true, file, problems: r.warnings.length ? formatProblems(file, r.warnings).split('\n') : [] });
      if (r.config.agent.status.address !== before) {
        this.agent.bus.emit({ type: 'warning', message: `status.address changed to ${r.config.agent.status.address}: still serving on ${before} until the agent restarts`, hint: 'systemctl restart joinagent' });
      }
      this.reloaded = true;
      this.wake?.();
      return true;
    } catch (e) {
      const problems = e instanceof ConfigError ? formatProblems(file, e.problems).split('\n') : [(e as Error).message];
      this.agent.bus.emit({ type: 'config-reload', ok: false, file, problems });
      return false;
    }
  }

  // join.tokenFile read again before each retry (config/token-refresh.ts)
  private async refreshToken(): Promise<void> {
    const r = await refreshToken(this.agent.config);
    if (!r.changed) return;
    this.agent.config = r.config;
    this.agent.bus.emit({ type: 'warning', message: `a new bootstrap token in ${r.config.tokenPath}: using it from this attempt on`, hint: 'nothing to do' });
  }

  private idleStatus(): string {
    const c = this.agent.config.agent.reconcile;
    return `joined; checking for drift every ${formatInterval(c.interval)} (${c.mode})`;
  }

  // Waits ms, or until stopped, or until a reload asks for a pass now.
  private pause(ms: number): Promise<void> {
    const signal = this.agent.controller.signal;
    if (signal.aborted || this.reloaded) {
      this.reloaded = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        this.reloaded = false;
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}

// 300000 -> "5m", 90000 -> "90s", 40 -> "40ms": how the config would have said it.
export function formatInterval(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
