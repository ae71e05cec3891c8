import type { StatusDocument } from '../../../src/status/model.js';
import type { Node } from '../../e2e/harness/node.js';
import { waitFor } from '../../e2e/harness/sh.js';

export const CONFIG = '/root/joinagent.yaml';

// A `joinagent run --once` in its own transient unit inside the node, so the test can
// SIGKILL it (the main process only, or the whole unit: agent and the apt/kubeadm it runs).
export async function startAgentUnit(node: Node, unit: string, args: string[] = ['run', '--once']): Promise<void> {
  await node.exec(['systemd-run', `--unit=${unit}`, '--quiet', '/usr/local/bin/joinagent', ...args, '--config', CONFIG, '--log-format', 'json']);
}

export async function unitActive(node: Node, unit: string): Promise<boolean> {
  const s = (await node.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim();
  return s === 'active' || s === 'activating' || s === 'deactivating';
}

// Transient units stay loaded after they end (no --collect) so the journal and exit status
// can be read; each kill point uses a fresh unit name.
export async function killUnit(node: Node, unit: string, whom: 'main' | 'all'): Promise<void> {
  await node.exec(['systemctl', 'kill', `--kill-whom=${whom}`, '--signal=SIGKILL', unit], { allowFailure: true });
  await waitFor(`${unit} to end after SIGKILL`, async () => ((await unitActive(node, unit)) ? undefined : true), 60_000, 100);
}

export async function waitUnitEnd(node: Node, unit: string, timeoutMs = 8 * 60_000): Promise<void> {
  await waitFor(`${unit} to finish`, async () => ((await unitActive(node, unit)) ? undefined : true), timeoutMs, 250);
}

// /status from inside the node; undefined while nothing listens.
export async function tryStatus(node: Node): Promise<StatusDocument | undefined> {
  const r = await node.exec(['curl', '-sS', '--max-time', '2', 'http://127.0.0.1:9797/status'], { allowFailure: true });
  if (r.exitCode !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as StatusDocument;
  } catch {
    return undefined;
  }
}

export const running = (s: StatusDocument | undefined, id: string, progress?: RegExp): boolean =>
  Boolean(s?.steps.some((x) => x.id === id && x.state === 'running' && (!progress || progress.test(x.progress ?? ''))));

export async function journal(node: Node, unit: string): Promise<string> {
  return (await node.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', unit], { allowFailure: true })).stdout;
}

// The step `id` or any step after it is running: a kill point that a fast step would let
// slip past still lands in the same part of the run.
export function atOrAfter(s: StatusDocument | undefined, id: string): boolean {
  const ids = s?.steps.map((x) => x.id) ?? [];
  const at = ids.indexOf(id);
  return at >= 0 && s!.steps.some((x, i) => i >= at && x.state === 'running');
}
