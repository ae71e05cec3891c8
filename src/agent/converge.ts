import type http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoadedConfig } from '../config/types.js';
import { diskHint, runSteps, type RunResult } from '../engine/engine.js';
import { selectSteps, type StepSelection } from '../engine/select.js';
import { EventBus, type RunMode } from '../engine/events.js';
import { acquireLock } from '../engine/lock.js';
import { loadState, recordChange, saveState, type PersistedState } from '../engine/state.js';
import type { Step, StepContext } from '../engine/step.js';
import { gatherFacts, refineFacts, type HostFacts } from '../host/facts.js';
import { hostFiles, type Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { hostProc, type Proc } from '../host/proc.js';
import { logEvents } from '../log/events.js';
import { AutoSnapshots } from '../ops/snapshot/auto.js';
import type { Logger } from '../log/logger.js';
import { lazyMetrics } from '../status/lazy-metrics.js';
import { StatusModel, type StatusDocument } from '../status/model.js';
import { startStatusServer } from '../status/server.js';
import { buildSteps, type StepSet } from '../steps/index.js';
import { configAt, nodeVersion } from '../upgrade/node-version.js';
import { COMMIT, VERSION } from '../version.js';

export interface AgentOptions {
  mode: RunMode;
  root: string;
  log: Logger;
  /** plan or --dry-run: nothing on the host may change. */
  readOnly: boolean;
  serve: boolean;
  stepSet: StepSet;
  /** --only / --skip */
  selection?: StepSelection;
  /** Override the step list (tests of the engine through the CLI never need this). */
  steps?: (config: LoadedConfig, facts: HostFacts) => Step[];
  files?: Files;
  proc?: Proc;
}

// Everything one agent process holds: host access, the event bus, the status model,
// persisted state and (when serving) the HTTP server.
export class Agent {
  readonly bus = new EventBus();
  readonly controller = new AbortController();
  readonly files: Files;
  readonly proc: Proc;
  model!: StatusModel;
  facts!: HostFacts;
  state!: PersistedState;
  server?: http.Server;
  private releaseLock?: () => Promise<void>;
  private saving: Promise<void> = Promise.resolve();
  private savePending = false;
  private stopDelay?: () => void;
  private saveFailed = false;

  constructor(
    public config: LoadedConfig,
    readonly opts: AgentOptions,
  ) {
    this.files = opts.files ?? hostFiles(opts.root, opts.readOnly, { warn: (message, hint) => this.bus.emit({ type: 'warning', message, hint }) });
    this.proc = opts.proc ?? hostProc(opts.readOnly, (r) => opts.log.debug({ event: 'exec', exitCode: r.exitCode, durationMs: r.durationMs }, `exec ${r.command}: exit ${r.exitCode} (${r.durationMs} ms)`));
  }

  // Lock first (a second agent must fail before touching anything), then facts,
  // previous state, status model and server. What only /status details need
  // (systeminformation) loads after the server listens, prom-client at the first scrape of
  // /metrics: start-up is the time to a served /status.
  async start(): Promise<void> {
    if (!this.opts.readOnly) {
      this.releaseLock = await acquireLock(this.files, () =>
        this.bus.emit({ type: 'warning', message: `the process holding the agent lock (flock on ${paths.lock}) ended: another agent could start beside this one`, hint: 'restart the agent (systemctl restart joinagent); something killed its flock child' }),
      );
    }
    this.facts = await gatherFacts(this.files);
    const stateProblems: { message: string; hint?: string }[] = [];
    this.state = await loadState(this.files, (message, hint) => stateProblems.push({ message, hint }));
    this.model = new StatusModel(this.bus, this.facts, { version: VERSION, commit: COMMIT, pid: process.pid, startedAt: new Date().toISOString(), config: this.config.file }, this.state);
    // event-loop delay shows in /status: a long step must never make the agent unresponsive.
    // The histogram records whole timer intervals (resolution + lateness): the lateness is
    // the delay. 100 ms keeps an idle agent at 10 wake-ups a second; a stall still shows
    // in full on the next tick.
    const resolutionMs = 100;
    const delay = monitorEventLoopDelay({ resolution: resolutionMs });
    delay.enable();
    const ms = (ns: number): number => Math.max(0, Math.round((ns - resolutionMs * 1e6) / 1e4) / 100);
    // percentile() walks the whole histogram: computed again only when a sample was added
    // (once per resolution), not for every request of a poller or a load test
    let seen = -1;
    let live: Partial<StatusDocument['agent']> = {};
    this.model.live = () => {
      if (delay.count !== seen) {
        seen = delay.count;
        live = { eventLoopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) } };
      }
      return live;
    };
    this.stopDelay = () => delay.disable();
    logEvents(this.bus, this.opts.log);
    for (const p of stateProblems) this.bus.emit({ type: 'warning', ...p });
    if (!this.opts.readOnly) this.persistOn();
    if (this.opts.serve) {
      this.server = await startStatusServer({ address: this.config.agent.status.address, model: this.model, routes: this.routes });
      this.routes['/metrics'] = lazyMetrics(this.bus, this.model, { version: VERSION, commit: COMMIT, joinedAt: () => this.state.joinedAt }).route;
      // systeminformation spawns lscpu and dmidecode: later, off the start-up path
      const refine = setTimeout(() => {
        this.refining = refineFacts(this.facts).then((f) => {
          Object.assign(this.model.doc.node, { cpus: f.cpus, memoryBytes: f.memoryBytes });
          this.model.invalidate();
        });
      }, 1000);
      refine.unref();
      this.stopLazy = () => clearTimeout(refine);
    }
  }

  /** Settles when systeminformation's CPU and memory facts are in /status. */
  refining: Promise<unknown> = Promise.resolve();
  private stopLazy?: () => void;

  routes: Record<string, (res: http.ServerResponse) => void | Promise<void>> = {};

  steps(): Step[] {
    const all = (this.opts.steps ?? ((c, f) => buildSteps(c, f, this.opts.stepSet)))(this.config, this.facts);
    return this.opts.selection ? selectSteps(all, this.opts.selection) : all;
  }

  // One pass over the steps. A reconcile pass passes its own bus (the daemon turns its
  // findings into drift events) and checkOnly for reconcile.mode: report.
  async converge(mode: RunMode = this.opts.mode, steps = this.steps(), over: { bus?: EventBus; checkOnly?: boolean } = {}): Promise<RunResult> {
    const bus = over.bus ?? this.bus;
    const published: Record<string, unknown> = {};
    const ctx: Omit<StepContext, 'progress'> = {
      // without the upgrade step (--only packages, prepare) the steps converge straight to
      // the config, as they always did
      config: steps.some((s) => s.id === 'upgrade') ? await this.configForSteps() : this.config,
      facts: this.facts,
      files: this.files,
      proc: this.proc,
      dryRun: this.opts.readOnly,
      signal: this.controller.signal,
      warn: (message, hint) => bus.emit({ type: 'warning', message, hint }),
      publish: (key, value) => {
        published[key] = value;
        bus.emit({ type: 'published', key, value });
      },
      published,
    };
    // before/after snapshots for `joinagent diff`; not for plan (changes nothing) nor for
    // reconcile repairs, which would replace the pair that shows the join
    const checkOnly = over.checkOnly ?? mode === 'plan';
    const snaps = !this.opts.readOnly && !checkOnly && (mode === 'run' || mode === 'prepare') ? new AutoSnapshots(this.files, this.proc, ctx.warn) : undefined;
    // the last run converged: expect ok everywhere and check ahead (engine/speculate.ts)
    const speculate = this.state.lastRun?.ok === true || mode === 'reconcile' ? 4 : 0;
    if (!speculate) snaps?.prefetchBefore();
    const result = await runSteps(steps, ctx, bus, { mode, checkOnly, concurrency: 2, speculate, beforeFirstChange: snaps && (() => snaps.takeBefore()) });
    await snaps?.takeAfter();
    return result;
  }

  // Every step but the upgrade sees the version the node runs (upgrade/node-version.ts).
  private async configForSteps(): Promise<LoadedConfig> {
    const probe: StepContext = { config: this.config, facts: this.facts, files: this.files, proc: this.proc, dryRun: true, signal: this.controller.signal, progress: () => {}, warn: () => {}, publish: () => {}, published: {} };
    return configAt(this.config, await nodeVersion(probe).catch(() => undefined));
  }

  // State is written after every step and at the end of a run; writes are serialized
  // so a slow disk never interleaves two versions.
  private persistOn(): void {
    this.bus.on((e) => {
      const s = this.state;
      if (e.type === 'run-start' && e.mode !== 'reconcile') s.lastRun = { mode: e.mode, startedAt: new Date().toISOString() };
      else if (e.type === 'step-end') {
        s.steps[e.id] = { ...e, at: new Date().toISOString() } as PersistedState['steps'][string];
        if (e.state === 'changed') recordChange(s, e.id, e.changes);
      }
      else if (e.type === 'published') s.published[e.key] = e.value;
      else if (e.type === 'run-end' && e.mode !== 'reconcile' && s.lastRun) {
        Object.assign(s.lastRun, { endedAt: new Date().toISOString(), ok: e.ok, failedStep: e.failedStep });
        if (e.ok && e.mode === 'run' && this.model.doc.joined) s.joinedAt ??= new Date().toISOString();
      } else return;
      this.queueSave();
    });
  }

  // At most one write waits behind the one in flight: it serializes the state as it is
  // when it starts, so events that arrive meanwhile ride along (a no-op run ended with a
  // queue of ~14 identical fsynced writes, ~100 ms of its exit).
  private queueSave(): void {
    if (this.savePending) return;
    this.savePending = true;
    this.saving = this.saving
      .then(() => {
        this.savePending = false;
        return saveState(this.files, this.state);
      })
      .then(() => {
        this.saveFailed = false;
      })
      .catch((err: NodeJS.ErrnoException) => {
        this.opts.log.warn(`cannot save state: ${err.message}`);
        // once per failure streak: /status shows it, the log is not flooded
        if (!this.saveFailed) this.bus.emit({ type: 'warning', message: `cannot save ${paths.state}: ${err.message}`, hint: `${diskHint(err) ?? 'check the file system holding ' + paths.stateDir}; until then a restarted agent does not remember this run` });
        this.saveFailed = true;
      });
  }

  async stop(): Promise<void> {
    this.controller.abort();
    this.stopDelay?.();
    this.stopLazy?.();
    await this.refining;
    await this.saving;
    if (this.server) await new Promise((r) => this.server!.close(() => r(undefined)));
    this.server?.closeAllConnections?.();
    await this.releaseLock?.();
  }
}
