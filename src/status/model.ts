import type { AgentEvent, EventBus } from '../engine/events.js';
import { describeChange } from '../engine/engine.js';
import type { Phase, StepState } from '../engine/step.js';
import type { PersistedState } from '../engine/state.js';
import type { HostFacts } from '../host/facts.js';
import { redactDeep } from '../host/redact.js';
import { applyUpgradeStatus } from './upgrade-status.js';

export interface StepStatus {
  id: string;
  title: string;
  phase: Phase;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  attempts: number;
  message?: string;
  hint?: string;
  progress?: string;
  changes?: string[];
}

export type AgentPhase = 'starting' | Phase | 'prepared' | 'ready' | 'failed' | 'planned' | 'upgrading';

export interface StatusDocument {
  agent: { version: string; commit: string; pid: number; startedAt: string; mode?: string; config: string; configReloadedAt?: string; eventLoopDelayMs?: { p50: number; p99: number; max: number } };
  node: { hostname: string; /** The primary node IP. */ nodeIP?: string; /** kubelet's node IPs, one per family (dual-stack: two, primary first). */ nodeIPs?: string[]; os: string; family?: string; kernel: string; arch: string; cpus: number; memoryBytes: number; machineId?: string; productUuid?: string };
  phase: AgentPhase;
  ready: boolean;
  joined: boolean;
  /** Why the node is not ready, in one line. */
  reason?: string;
  steps: StepStatus[];
  lastError?: { step?: string; message: string; hint?: string; at: string };
  warnings: { message: string; hint?: string; step?: string }[];
  published: Record<string, unknown>;
  drift: DriftStatus;
  /** What the daemon does next: retry a failed run, or the next reconcile pass. */
  next?: { action: 'retry' | 'reconcile'; at: string; attempt?: number };
  previousRun?: PersistedState['lastRun'];
}

export interface DriftStatus {
  lastCheck?: string;
  /** Steps found drifted at their last check and not (yet) repaired. */
  steps: string[];
  /** Drift found (a step's check differed after the node had converged). */
  detected: number;
  repairs: number;
  /** The newest drift findings, newest last (at most RECENT_DRIFT). */
  recent: { id: string; at: string; changes: string[]; repaired: boolean; error?: string; hint?: string }[];
}

const RECENT_DRIFT = 10;

// Folds the event stream into the status document that /status serves; the same
// document is what `joinagent status` prints.
export class StatusModel {
  readonly doc: StatusDocument;

  constructor(
    bus: EventBus,
    facts: HostFacts,
    agent: StatusDocument['agent'],
    previous?: PersistedState,
  ) {
    this.doc = {
      agent,
      node: { hostname: facts.hostname, os: facts.osName, family: facts.family, kernel: facts.kernel, arch: facts.arch, cpus: facts.cpus, memoryBytes: facts.memoryBytes, machineId: facts.machineId, productUuid: facts.productUuid },
      phase: 'starting',
      ready: false,
      joined: false,
      reason: 'starting',
      steps: [],
      warnings: [],
      published: { ...(previous?.published ?? {}) },
      drift: { steps: [], detected: 0, repairs: 0, recent: [] },
      previousRun: previous?.lastRun,
    };
    if (typeof this.doc.published.nodeIP === 'string') setNodeIPs(this.doc, this.doc.published.nodeIP);
    bus.on((e) => {
      this.apply(e);
      this.invalidate();
    });
  }

  private step(id: string): StepStatus | undefined {
    return this.doc.steps.find((s) => s.id === id);
  }

  apply(e: AgentEvent): void {
    const d = this.doc;
    switch (e.type) {
      case 'run-start': {
        d.agent.mode = e.mode;
        d.next = undefined;
        if (e.mode === 'reconcile') break;
        d.steps = e.steps.map((s) => ({ ...s, state: 'pending', attempts: 0 }));
        d.phase = e.steps[0]?.phase ?? 'starting';
        d.reason = 'working';
        break;
      }
      case 'step-start': {
        const s = this.step(e.id);
        if (!s) break;
        s.state = 'running';
        s.attempts = e.attempt;
        s.startedAt ??= new Date().toISOString();
        if (d.agent.mode !== 'reconcile') {
          d.phase = s.phase;
          d.reason = `working: ${s.title}`;
        }
        break;
      }
      case 'step-checked':
        break;
      case 'step-progress': {
        const s = this.step(e.id);
        if (s) s.progress = e.message;
        break;
      }
      case 'step-retry': {
        const s = this.step(e.id);
        if (s) {
          s.message = `attempt ${e.attempt} failed, retrying in ${Math.round(e.delayMs / 100) / 10}s: ${e.error}`;
          // while a step retries (a filtered port, a registry down) the user needs what to check now
          s.hint = e.hint;
        }
        d.reason = `${e.id}: ${e.error}`;
        break;
      }
      case 'step-end': {
        const s = this.step(e.id);
        if (!s) break;
        Object.assign(s, {
          state: e.state,
          endedAt: new Date().toISOString(),
          durationMs: e.durationMs,
          attempts: e.attempts,
          message: e.message,
          hint: e.hint,
          changes: e.changes.map(describeChange),
        });
        if (e.state === 'failed') d.lastError = { step: e.id, message: e.message ?? 'failed', hint: e.hint, at: new Date().toISOString() };
        break;
      }
      case 'run-end': {
        if (e.mode === 'reconcile') break;
        if (!e.ok) {
          d.phase = 'failed';
          d.ready = false;
          d.reason = d.lastError ? `${d.lastError.step}: ${d.lastError.message}` : 'failed';
        } else if (e.mode === 'plan') {
          d.phase = 'planned';
          d.reason = 'plan only';
        } else if (e.mode === 'prepare') {
          d.phase = 'prepared';
          d.reason = 'host prepared; not joined (prepare does not join)';
        } else {
          d.joined = d.published.joined === true;
          d.ready = d.joined;
          d.phase = d.ready ? 'ready' : 'failed';
          d.reason = d.ready ? undefined : 'run finished but the node is not joined';
          if (d.ready) d.lastError = undefined;
        }
        break;
      }
      case 'warning':
        if (!d.warnings.some((w) => w.message === e.message)) d.warnings.push({ message: e.message, hint: e.hint, step: e.step });
        break;
      case 'published':
        d.published[e.key] = e.value;
        if (e.key === 'nodeIP' && typeof e.value === 'string') setNodeIPs(d, e.value);
        if (e.key === 'joined') d.joined = e.value === true;
        if (e.key === 'upgrade') applyUpgradeStatus(d, e.value);
        break;
      case 'drift': {
        const at = new Date().toISOString();
        d.drift.lastCheck = at;
        const found = e.changes.length > 0 || e.error !== undefined;
        d.drift.steps = d.drift.steps.filter((x) => x !== e.id);
        if (found && !e.repaired) d.drift.steps.push(e.id);
        if (e.changes.length) d.drift.detected++;
        if (e.repaired) d.drift.repairs++;
        if (found) {
          d.drift.recent.push({ id: e.id, at, changes: e.changes.map(describeChange), repaired: e.repaired, error: e.error, hint: e.hint });
          d.drift.recent.splice(0, Math.max(0, d.drift.recent.length - RECENT_DRIFT));
        }
        break;
      }
      case 'scheduled':
        d.next = { action: e.action, at: e.at, attempt: e.attempt };
        if (e.action === 'retry' && d.phase === 'failed') d.reason = `${d.reason ?? 'failed'}; retrying in ${Math.round(e.delayMs / 1000)}s (attempt ${e.attempt})`;
        break;
      case 'config-reload':
        if (e.ok) d.agent.configReloadedAt = new Date().toISOString();
        break;
    }
  }

  /** Live values (event-loop delay), not carried by events; the same object until they change. */
  live?: () => Partial<StatusDocument['agent']>;

  // /status is read far more often than the document changes: the redacted JSON is built
  // once per change (events, facts refined) and served as is, with only the live values
  // spliced in per request. Redaction stays on the build path, so nothing unredacted is cached.
  private cached?: [before: string, after: string];

  /** Call after mutating `doc` outside of an event (e.g. refined facts). */
  invalidate(): void {
    this.cached = undefined;
  }

  snapshot(): StatusDocument {
    const doc = redactDeep(structuredClone(this.doc));
    if (this.live) Object.assign(doc.agent, this.live());
    return doc;
  }

  /** The status document as JSON text, as /status serves it. */
  json(): string {
    return this.body().toString('utf8');
  }

  // The encoded document, reused while neither the document nor the live values changed
  // (live() returns the same object until its values change): a poller, or wrk, is
  // answered with a compare, not a concatenation and a UTF-8 encoding per request.
  private encoded?: { cached: [string, string]; live: object | undefined; body: Buffer };

  body(): Buffer {
    const cached = (this.cached ??= this.build());
    const live = this.live?.();
    const e = this.encoded;
    if (e && e.cached === cached && e.live === live) return e.body;
    const [before, after] = cached;
    const text = live ? JSON.stringify(live).slice(1, -1) : '';
    const body = Buffer.from(text ? `${before},${text}${after}` : before + after, 'utf8');
    this.encoded = { cached, live, body };
    return body;
  }

  // Serializes the redacted document once, split where the live agent fields go (the end
  // of the agent object; agent always has fields before it, hence the comma).
  private build(): [string, string] {
    const doc = redactDeep(this.doc);
    const agent = doc.agent as Record<string, unknown>;
    for (const k of Object.keys(this.live?.() ?? {})) delete agent[k];
    agent[LIVE_MARK] = 0;
    const text = JSON.stringify(doc) + '\n';
    const mark = `,"${LIVE_MARK}":0`;
    const at = text.indexOf(mark);
    return [text.slice(0, at), text.slice(at + mark.length)];
  }
}

// The published node IP is kubelet's --node-ip value: "IPv4,IPv6" on a dual-stack node.
function setNodeIPs(d: StatusDocument, value: string): void {
  d.node.nodeIPs = value.split(',');
  d.node.nodeIP = d.node.nodeIPs[0];
}

// Where live values are spliced in: a key of our own agent object, which holds no other.
const LIVE_MARK = '__live__';
