import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventBus, type AgentEvent } from '../../src/engine/events.js';
import type { StepContext } from '../../src/engine/step.js';
import type { HostFacts } from '../../src/host/facts.js';
import { hostFiles, type Files } from '../../src/host/files.js';
import type { Proc, RunOptions, RunResult } from '../../src/host/proc.js';
import type { LoadedConfig } from '../../src/config/types.js';

export interface RecordedCall {
  verb: 'probe' | 'run';
  file: string;
  args: string[];
  input?: string;
}

export type Responder = (call: RecordedCall) => Partial<RunResult> | undefined;

// A recording process fake: every call is kept (verb = probe or run) and answered by the
// first responder that matches, so a test can assert which commands ran and that a
// converged re-run issued no run() at all.
export class FakeProc implements Proc {
  calls: RecordedCall[] = [];
  readonly readOnly: boolean;
  private responders: Responder[] = [];
  constructor(readOnly = false) {
    this.readOnly = readOnly;
  }
  // A function answer may return undefined to pass the call on to earlier responders.
  on(match: string | RegExp, answer: Partial<RunResult> | ((c: RecordedCall) => Partial<RunResult> | undefined)): this {
    this.responders.push((c) => {
      const line = [c.file, ...c.args].join(' ');
      const hit = typeof match === 'string' ? line === match || line.startsWith(match + ' ') : match.test(line);
      if (!hit) return undefined;
      return typeof answer === 'function' ? answer(c) : answer;
    });
    return this;
  }
  private async answer(verb: 'probe' | 'run', file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    if (verb === 'run' && this.readOnly) throw new Error(`read-only: ${file} ${args.join(' ')}`);
    const call = { verb, file, args, input: opts.input };
    this.calls.push(call);
    let a: Partial<RunResult> | undefined;
    for (let i = this.responders.length - 1; i >= 0 && !a; i--) a = this.responders[i](call);
    const r: RunResult = { command: [file, ...args].join(' '), exitCode: 0, stdout: '', stderr: '', durationMs: 0, timedOut: false, notFound: false, ...(a ?? {}) };
    if (a === undefined) {
      r.exitCode = 127;
      r.notFound = true;
    }
    for (const l of r.stdout.split('\n')) if (l) opts.onLine?.(l, 'stdout');
    if (r.exitCode !== 0 && !opts.allowFailure) {
      const { ProcError } = await import('../../src/host/proc.js');
      throw new ProcError(r);
    }
    return r;
  }
  probe(file: string, args: string[], opts?: RunOptions): Promise<RunResult> {
    return this.answer('probe', file, args, opts);
  }
  run(file: string, args: string[], opts?: RunOptions): Promise<RunResult> {
    return this.answer('run', file, args, opts);
  }
  async which(name: string): Promise<string | null> {
    return this.responders.some((r) => r({ verb: 'probe', file: name, args: ['--version'] }) !== undefined) ? `/usr/bin/${name}` : null;
  }
  runs(): string[] {
    return this.calls.filter((c) => c.verb === 'run').map((c) => [c.file, ...c.args].join(' '));
  }
  reset(): void {
    this.calls = [];
  }
}

export function tempRoot(prefix = 'joinagent-test-'): { root: string; files: Files; cleanup: () => void } {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { root, files: hostFiles(root), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export const debianFacts: HostFacts = { hostname: 'k8s-w1', osId: 'debian', osVersion: '12', osName: 'Debian GNU/Linux 12 (bookworm)', family: 'debian', kernel: '6.1.0', arch: 'x64', cpus: 2, memoryBytes: 4 << 30 };
export const rockyFacts: HostFacts = { ...debianFacts, osId: 'rocky', osVersion: '10.0', osName: 'Rocky Linux 10.0', family: 'rhel' };

// A minimal valid LoadedConfig with overrides applied to the agent part.
export function testConfig(over: Partial<LoadedConfig['agent']> = {}): LoadedConfig {
  return {
    file: '/etc/joinagent/config.yaml',
    agent: {
      kubernetesVersion: 'v1.32.11',
      host: { ntp: true, selinux: 'permissive', firewall: 'disable', firewallPorts: ['10250/tcp'], swap: 'disable', packageLockWait: 120_000, hosts: [] },
      containerd: { source: 'distro', registryMirrors: {} },
      repositories: {},
      images: { repository: 'registry.k8s.io' },
      nodeIP: 'auto',
      networking: {},
      kubelet: {},
      join: { resetOnFailure: false, timeout: 600_000, waitForReady: 0 },
      status: { address: '127.0.0.1:9797' },
      reconcile: { interval: 300_000, mode: 'repair' },
      upgrade: { drainTimeout: 300_000, waitForReady: 0 },
      registries: {},
      ...over,
    },
    join: { apiVersion: 'kubeadm.k8s.io/v1beta4', raw: {}, apiServerEndpoint: '192.168.10.100:6443', caCertHashes: [], unsafeSkipCAVerification: true, criSocket: 'unix:///run/containerd/containerd.sock', kubeletExtraArgs: [] },
    token: 'abcdef.0123456789abcdef',
    tokenSource: 'inline',
  };
}

// A StepContext over a temp root and a FakeProc; events are collected for assertions.
export function stepContext(files: Files, proc: Proc, config = testConfig(), facts = debianFacts): StepContext & { events: AgentEvent[]; bus: EventBus } {
  const bus = new EventBus();
  const events: AgentEvent[] = [];
  bus.on((e) => events.push(e));
  const published: Record<string, unknown> = {};
  return {
    config,
    facts,
    files,
    proc,
    dryRun: false,
    signal: new AbortController().signal,
    progress: (message) => bus.emit({ type: 'step-progress', id: 'test', message }),
    warn: (message, hint) => bus.emit({ type: 'warning', message, hint }),
    publish: (key, value) => {
      published[key] = value;
      bus.emit({ type: 'published', key, value });
    },
    published,
    events,
    bus,
  };
}
