import type { AgentEvent, EventBus } from '../engine/events.js';
import { describeChange } from '../engine/engine.js';
import type { Logger } from './logger.js';

// One formatter per event kind: the switch is exhaustive, so a new kind must be handled.
export function logEvents(bus: EventBus, log: Logger): void {
  bus.on((e) => logEvent(log, e));
}

export function logEvent(log: Logger, e: AgentEvent): void {
  switch (e.type) {
    case 'run-start':
      // a reconcile pass every few minutes is routine: only drift it finds is news
      (e.mode === 'reconcile' ? log.debug : log.info).call(log, { event: e.type, mode: e.mode }, `${e.mode}: ${e.steps.length} steps`);
      return;
    case 'step-start':
      log.debug({ event: e.type, step: e.id, attempts: e.attempt }, `${e.id}: checking`);
      return;
    case 'step-checked':
      if (e.result.state === 'change') log.info({ event: e.type, step: e.id }, `${e.id}: ${e.result.changes.map(describeChange).join('; ')}`);
      return;
    case 'step-progress':
      log.info({ event: e.type, step: e.id }, `${e.id}: ${e.message}`);
      return;
    case 'step-retry':
      log.warn({ event: e.type, step: e.id, attempts: e.attempt, delayMs: e.delayMs, hint: e.hint }, `${e.id}: attempt ${e.attempt} failed (${e.error}); retrying in ${(e.delayMs / 1000).toFixed(1)}s`);
      return;
    case 'step-end': {
      const fields = { event: e.type, step: e.id, state: e.state, durationMs: e.durationMs, attempts: e.attempts };
      const text = `${e.id}: ${e.state}${e.message ? ` - ${e.message}` : ''} (${e.durationMs} ms)`;
      if (e.state === 'failed') log.error({ ...fields, hint: e.hint }, e.hint ? `${text}\n  hint: ${e.hint}` : text);
      else log.info(fields, text);
      return;
    }
    case 'run-end':
      (e.ok ? (e.mode === 'reconcile' ? log.debug : log.info) : log.error).call(log, { event: e.type, mode: e.mode, durationMs: e.durationMs }, `${e.mode} ${e.ok ? 'finished' : `failed at ${e.failedStep ?? 'a step'}`} in ${(e.durationMs / 1000).toFixed(1)}s`);
      return;
    case 'warning':
      log.warn({ event: e.type, step: e.step, hint: e.hint }, e.hint ? `${e.message} (${e.hint})` : e.message);
      return;
    case 'published':
      log.debug({ event: e.type, key: e.key }, `${e.key} = ${JSON.stringify(e.value)}`);
      return;
    case 'drift':
      if (e.error) log.error({ event: e.type, step: e.id, hint: e.hint }, `drift in ${e.id}: repair failed: ${e.error}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
      else if (e.changes.length) log.warn({ event: e.type, step: e.id }, `drift in ${e.id}: ${e.changes.map(describeChange).join('; ')}${e.repaired ? ' (repaired)' : ' (not repaired: reconcile.mode is report)'}`);
      return;
    case 'scheduled':
      if (e.action === 'retry') log.warn({ event: e.type, attempts: e.attempt, delayMs: e.delayMs }, `run failed; retrying the whole run in ${(e.delayMs / 1000).toFixed(1)}s (attempt ${e.attempt})`);
      else log.debug({ event: e.type, delayMs: e.delayMs }, `next reconcile at ${e.at}`);
      return;
    case 'config-reload':
      if (e.ok) log.info({ event: e.type }, `config reloaded from ${e.file}`);
      else log.error({ event: e.type }, `config reload refused, keeping the previous config: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'} in ${e.file}:\n${e.problems.join('\n')}`);
      return;
  }
}
