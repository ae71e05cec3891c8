import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Daemon } from '../../../src/agent/daemon.js';
import { systemdNotifier } from '../../../src/agent/notify.js';
import { EXIT } from '../../../src/cli/exit.js';
import { ConfigError, type LoadResult } from '../../../src/config/load.js';
import type { AgentEvent } from '../../../src/engine/events.js';
import { testConfig } from '../../helpers/fakes.js';
import { MANAGED, testSteps, until, WANTED, world, type World } from './fixture.js';

const FAST_RETRY = { attempts: Infinity, baseMs: 5, maxMs: 20 };

function daemonFor(w: World, loadConfig: () => Promise<LoadResult> = async () => ({ config: w.agent.config, warnings: [] })): Daemon {
  return new Daemon(w.agent, { retry: FAST_RETRY, loadConfig, notifier: systemdNotifier(w.proc, { NOTIFY_SOCKET: '/run/systemd/notify' }, 4242) });
}

const notifications = (w: World): string[] => w.proc.calls.filter((c) => c.file === 'systemd-notify').map((c) => c.args.join(' '));

test('control plane down: the daemon retries the whole run with back-off, says so, and joins when it is back', async () => {
  const w = await world({ controlPlaneUp: false });
  try {
    const d = daemonFor(w);
    const done = d.run();
    await until('two retries', () => (w.agent.model.doc.next?.attempt ?? 0) >= 2);
    const doc = w.agent.model.snapshot();
    assert.equal(doc.phase, 'failed');
    assert.equal(doc.ready, false);
    assert.match(doc.reason!, /join: cannot reach the API server 192\.168\.10\.100:6443.*retrying in \d+s \(attempt \d+\)/);
    assert.equal(doc.next?.action, 'retry');
    assert.ok(!notifications(w).some((n) => n.includes('--ready')), 'no READY before the join');
    assert.ok(notifications(w).some((n) => n.startsWith('--pid=4242 --status=not joined: join: cannot reach')));

    w.controlPlane.up = true;
    await until('ready', () => w.agent.model.doc.ready);
    await until('READY sent', () => notifications(w).some((n) => n.includes('--ready')));
    assert.match(notifications(w).find((n) => n.includes('--ready'))!, /^--pid=4242 --ready --status=joined; checking for drift every 40ms \(repair\)$/);

    // then the reconcile loop (interval 40ms in this config) repairs drift on its own
    writeFileSync(path.join(w.root, MANAGED), 'tampered\n');
    await until('drift repaired', () => w.agent.model.doc.drift.repairs >= 1);
    assert.equal(await w.agent.files.read(MANAGED), WANTED);
    assert.equal(w.agent.model.doc.next?.action, 'reconcile');

    d.stop();
    assert.equal(await done, EXIT.ok);
    assert.ok(notifications(w).some((n) => n.includes('STOPPING=1')));
  } finally {
    await w.cleanup();
  }
});

test('stop during a run: the running step finishes, no new step starts, exit 0', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const w = await world({
    steps: (wd) => {
      const [file, kubelet, join] = testSteps(wd);
      const apply = file.apply.bind(file);
      file.apply = async (ctx, changes) => {
        await gate; // a package transaction in progress
        await apply(ctx, changes);
      };
      return [file, kubelet, join];
    },
  });
  try {
    const d = daemonFor(w);
    const done = d.run();
    await until('first step running', () => w.agent.model.doc.steps[0]?.state === 'running');
    d.stop();
    release();
    assert.equal(await done, EXIT.ok);
    assert.equal(await w.agent.files.read(MANAGED), WANTED, 'the step in progress completed');
    const states = w.agent.model.doc.steps.map((s) => s.state);
    assert.deepEqual(states, ['changed', 'skipped', 'skipped']);
    assert.deepEqual(w.proc.runs(), [], 'kubelet step never started');
  } finally {
    await w.cleanup();
  }
});

test('reload: a bad config is refused with every problem and the old one kept; a good one is used at once', async () => {
  const w = await world();
  const events: AgentEvent[] = [];
  w.agent.bus.on((e) => events.push(e));
  let next: () => Promise<LoadResult> = async () => {
    throw new ConfigError('/etc/joinagent/config.yaml', [
      { path: 'reconcile.mode', message: 'must be one of repair, report', line: 7, col: 9, severity: 'error' },
      { path: 'nodeIP', message: '"1.2.3" is not an IP address', line: 9, col: 9, severity: 'error' },
    ]);
  };
  const d = new Daemon(w.agent, { retry: FAST_RETRY, loadConfig: () => next() });
  try {
    const before = w.agent.config;
    const done = d.run();
    await until('ready', () => w.agent.model.doc.ready);
    assert.equal(await d.reload(), false);
    assert.equal(w.agent.config, before);
    const refused = events.find((e) => e.type === 'config-reload');
    assert.deepEqual(refused, {
      type: 'config-reload',
      ok: false,
      file: '/etc/joinagent/config.yaml',
      problems: ['/etc/joinagent/config.yaml:7:9: reconcile.mode: must be one of repair, report', '/etc/joinagent/config.yaml:9:9: nodeIP: "1.2.3" is not an IP address'],
    });

    // a good config: report mode from now on, and a pass runs right away
    const good = testConfig({ reconcile: { interval: 60_000, mode: 'report' }, status: w.agent.config.agent.status });
    next = async () => ({ config: good, warnings: [] });
    writeFileSync(path.join(w.root, MANAGED), 'tampered\n');
    const checks = w.agent.model.doc.drift.detected;
    assert.equal(await d.reload(), true);
    assert.equal(w.agent.config, good);
    await until('a pass with the new config', () => w.agent.model.doc.drift.detected > checks);
    assert.equal(await w.agent.files.read(MANAGED), 'tampered\n', 'report mode leaves it');
    assert.ok(w.agent.model.doc.agent.configReloadedAt);
    d.stop();
    assert.equal(await done, EXIT.ok);
  } finally {
    await w.cleanup();
  }
});
