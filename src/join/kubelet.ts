import http from 'node:http';
import { sleep } from '../engine/retry.js';
import { kubeletHealthzUrl } from '../host/paths.js';
import type { Proc } from '../host/proc.js';

// kubelet answers "ok" on 127.0.0.1:10248/healthz once it runs with a valid config; it
// is what kubeadm's [kubelet-check] waits for, and what "joined" means locally.
// Bounded like every request joinagent makes: the whole answer within timeoutMs (not
// just each byte), at most a few bytes of it ("ok").
export function kubeletHealthy(url = kubeletHealthzUrl(), timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => req.destroy(), timeoutMs);
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
        if (body.length > 1024) req.destroy();
      });
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'ok'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.on('close', () => {
      clearTimeout(deadline);
      resolve(false);
    });
  });
}

// Polls until healthy or the deadline; kubelet restarts take a few seconds.
export async function waitKubeletHealthy(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await kubeletHealthy()) return true;
    if (Date.now() >= deadline || signal?.aborted) return false;
    await sleep(1000, signal);
  }
}

// The last kubelet journal lines, to put next to a "kubelet not healthy" failure.
export async function kubeletJournal(proc: Proc, lines = 20): Promise<string> {
  const r = await proc.probe('journalctl', ['-u', 'kubelet', '-n', String(lines), '--no-pager', '-o', 'cat'], { allowFailure: true, timeoutMs: 10_000 });
  if (r.notFound) return '(journalctl not available: no kubelet journal)';
  const text = r.stdout.trim();
  return text ? text : '(the kubelet journal is empty: is the kubelet unit installed and enabled?)';
}

// The reason the kubelet gave up, from its journal: a kubelet that refuses to start logs
// `"command failed" err="failed to run Kubelet: <why>"` (cmd/kubelet run.go) and exits 1;
// the last such line names the cause (swap on, the CRI not answering).
export function kubeletFatal(journal: string): string | undefined {
  const lines = journal.split('\n').filter((l) => l.includes('"command failed"'));
  const m = /err="(failed to run Kubelet: .*)"\s*$/.exec(lines.at(-1) ?? '');
  return m?.[1].replace(/\\"/g, '"');
}
