import type http from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { EventBus } from '../engine/events.js';
import type { StepState } from '../engine/step.js';
import type { StatusModel } from './model.js';
import { registerUpgradeMetrics } from './upgrade-metrics.js';

const STATES: StepState[] = ['pending', 'running', 'ok', 'changed', 'failed', 'skipped'];

export interface MetricsOptions {
  version: string;
  commit: string;
  /** When the node first joined (persisted state), for the completion timestamp. */
  joinedAt: () => string | undefined;
  /** Node.js process metrics (CPU, memory, fds, GC, event-loop lag sampled once a second). */
  processMetrics?: boolean;
}

export interface Metrics {
  registry: Registry;
  route: (res: http.ServerResponse) => Promise<void>;
}

// Prometheus metrics fed by the same event stream as logs and /status. A private registry
// (never prom-client's global one) so two agents in one test process do not collide.
// Labels are step ids, states and modes only: no value that could hold a secret.
export function createMetrics(bus: EventBus, model: StatusModel, opts: MetricsOptions): Metrics {
  const registry = new Registry();
  const reg = { registers: [registry] };
  new Gauge({ ...reg, name: 'joinagent_build_info', help: 'joinagent build; always 1', labelNames: ['version', 'commit', 'nodejs'] }).set({ version: opts.version, commit: opts.commit, nodejs: process.version }, 1);
  const stepState = new Gauge({ ...reg, name: 'joinagent_step_state', help: 'each step\'s state in the last run: 1 for the current state, 0 otherwise', labelNames: ['step', 'state'] });
  const stepDuration = new Gauge({ ...reg, name: 'joinagent_step_duration_seconds', help: 'duration of each step in the last run (check, apply, verify, retries)', labelNames: ['step'] });
  const stepAttempts = new Gauge({ ...reg, name: 'joinagent_step_attempts', help: 'attempts each step needed in the last run', labelNames: ['step'] });
  const stepRetries = new Counter({ ...reg, name: 'joinagent_step_retries_total', help: 'failed attempts that were retried, per step', labelNames: ['step'] });
  const runs = new Counter({ ...reg, name: 'joinagent_runs_total', help: 'finished runs by mode (run, prepare, reconcile) and result', labelNames: ['mode', 'result'] });
  const runDuration = new Gauge({ ...reg, name: 'joinagent_run_duration_seconds', help: 'duration of the last finished run, by mode', labelNames: ['mode'] });
  const driftDetected = new Counter({ ...reg, name: 'joinagent_drift_detected_total', help: 'reconcile checks that found a step drifted from the desired state', labelNames: ['step'] });
  const driftRepairs = new Counter({ ...reg, name: 'joinagent_drift_repairs_total', help: 'drift repaired by the agent (reconcile.mode: repair)', labelNames: ['step'] });
  const driftFailures = new Counter({ ...reg, name: 'joinagent_drift_repair_failures_total', help: 'reconcile checks or repairs that failed', labelNames: ['step'] });
  const reloads = new Counter({ ...reg, name: 'joinagent_config_reloads_total', help: 'SIGHUP config reloads by result (ok, refused)', labelNames: ['result'] });
  new Gauge({
    ...reg,
    name: 'joinagent_drifted_steps',
    help: 'steps drifted at their last check and not repaired',
    collect() {
      this.set(model.doc.drift.steps.length);
    },
  });
  new Gauge({
    ...reg,
    name: 'joinagent_ready',
    help: '1 when the node has joined and the agent is healthy (as /readyz)',
    collect() {
      this.set(model.doc.ready ? 1 : 0);
    },
  });
  new Gauge({
    ...reg,
    name: 'joinagent_join_completed_timestamp_seconds',
    help: 'unix time the node first joined the cluster; 0 until it has',
    collect() {
      const at = opts.joinedAt();
      if (at) this.set(Date.parse(at) / 1000);
    },
  });
  new Gauge({
    ...reg,
    name: 'joinagent_node_info',
    help: 'this machine\'s identity; always 1 (two nodes with one machine_id or product_uuid are clones)',
    labelNames: ['machine_id', 'product_uuid'],
    collect() {
      this.reset();
      this.set({ machine_id: model.doc.node.machineId ?? '', product_uuid: model.doc.node.productUuid ?? '' }, 1);
    },
  });
  new Gauge({
    ...reg,
    name: 'joinagent_kubelet_client_cert_expiry_seconds',
    help: 'unix time the kubelet\'s client certificate (kubelet-client-current.pem) expires; absent before the join',
    collect() {
      this.reset();
      const c = model.doc.published.kubeletCert as { clientNotAfter?: string } | undefined;
      if (c?.clientNotAfter) this.set(Date.parse(c.clientNotAfter) / 1000);
    },
  });
  new Gauge({
    ...reg,
    name: 'joinagent_reconcile_last_timestamp_seconds',
    help: 'unix time of the last reconcile (drift) check; 0 before the first',
    collect() {
      const at = model.doc.drift.lastCheck;
      if (at) this.set(Date.parse(at) / 1000);
    },
  });
  registerUpgradeMetrics(registry, model);
  if (opts.processMetrics !== false) {
    // the standard process_* / nodejs_* names dashboards expect; event-loop lag sampled
    // once a second instead of prom-client's 100 times, so an idle daemon stays idle
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  }

  let mode = '';
  const setState = (step: string, state: StepState): void => {
    for (const s of STATES) stepState.set({ step, state: s }, s === state ? 1 : 0);
  };
  bus.on((e) => {
    switch (e.type) {
      case 'run-start':
        mode = e.mode;
        if (e.mode === 'reconcile' || e.mode === 'plan') return;
        stepState.reset();
        stepDuration.reset();
        stepAttempts.reset();
        for (const s of e.steps) setState(s.id, 'pending');
        return;
      case 'step-start':
        if (mode !== 'reconcile') setState(e.id, 'running');
        return;
      case 'step-retry':
        stepRetries.inc({ step: e.id });
        return;
      case 'step-end':
        if (mode === 'reconcile') return;
        setState(e.id, e.state);
        stepDuration.set({ step: e.id }, e.durationMs / 1000);
        stepAttempts.set({ step: e.id }, e.attempts);
        return;
      case 'run-end':
        runs.inc({ mode: e.mode, result: e.ok ? 'ok' : 'failed' });
        runDuration.set({ mode: e.mode }, e.durationMs / 1000);
        return;
      case 'drift':
        if (e.changes.length) driftDetected.inc({ step: e.id });
        if (e.repaired) driftRepairs.inc({ step: e.id });
        if (e.error) driftFailures.inc({ step: e.id });
        return;
      case 'config-reload':
        reloads.inc({ result: e.ok ? 'ok' : 'refused' });
        return;
      default:
        return;
    }
  });

  return {
    registry,
    async route(res) {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      res.end(text);
    },
  };
}
