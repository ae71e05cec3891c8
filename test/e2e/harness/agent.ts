import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import type { StatusDocument } from '../../../src/status/model.js';
import type { Node } from './node.js';
import { binary, repoRoot } from './paths.js';
import { sh, waitFor } from './sh.js';

// Builds dist/joinagent when it is missing or older than any source file, so a
// scenario never tests a stale binary; then checks that it is the agent (this version and
// commit, its code cache), as build.sh does, before anything copies it into a node: a
// bare Node runtime under the agent's name once reached the demo node and failed there
// with "Cannot find module '/run'" after minutes of set-up.
export async function ensureBinary(log: (m: string) => void = () => {}): Promise<string> {
  // the binary embeds systemd/joinagent.service too
  const newest = Math.max(await newestMtime(path.join(repoRoot, 'src')), await newestMtime(path.join(repoRoot, 'systemd')));
  let built = false;
  if (!existsSync(binary) || statSync(binary).mtimeMs < newest) {
    log('building dist/joinagent (bash build.sh)');
    await sh('bash', ['build.sh'], { cwd: repoRoot, timeoutMs: 5 * 60_000 });
    built = true;
  }
  let problem = await checkBinary();
  if (problem && !built) {
    // e.g. built before the last commit: one rebuild, then the verdict stands
    log(`rebuilding dist/joinagent: ${problem}`);
    await sh('bash', ['build.sh'], { cwd: repoRoot, timeoutMs: 5 * 60_000 });
    problem = await checkBinary();
  }
  if (problem) throw new Error(`dist/joinagent is not the agent, not copying it into a node: ${problem}`);
  return binary;
}

// packaging/check-binary.sh's one-line verdict, or undefined when the binary is right.
async function checkBinary(): Promise<string | undefined> {
  const version = (JSON.parse(await fs.readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = (await sh('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, allowFailure: true })).stdout.trim() || 'unknown';
  const r = await sh('bash', [path.join(repoRoot, 'packaging/check-binary.sh'), binary, version, commit], { allowFailure: true });
  return r.exitCode === 0 ? undefined : r.stderr.trim().replace(/^check-binary: \S+: /, '');
}

async function newestMtime(dir: string): Promise<number> {
  let max = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) max = Math.max(max, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return max;
}

// /status as the node's own curl sees it (the agent listens on the node's loopback).
// `run --once` of the agent copied to /root/joinagent, its exit code and all it said.
export type OnceRun = { exitCode: number; out: string };
export async function runOnce(node: Node, config: string, args: string[] = []): Promise<OnceRun> {
  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', config, ...args], { allowFailure: true, timeoutMs: 8 * 60_000 });
  return { exitCode: r.exitCode, out: `${r.stdout}\n${r.stderr}` };
}

export async function statusInNode(node: Node): Promise<StatusDocument> {
  const r = await node.exec(['curl', '-sS', '--max-time', '5', 'http://127.0.0.1:9797/status']);
  return JSON.parse(r.stdout) as StatusDocument;
}

export async function httpCodeInNode(node: Node, urlPath: string): Promise<number> {
  const r = await node.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `http://127.0.0.1:9797${urlPath}`], { allowFailure: true });
  return Number(r.stdout.trim() || 0);
}

export function waitForStatus(node: Node, what: string, pred: (s: StatusDocument) => boolean, timeoutMs: number): Promise<StatusDocument> {
  return waitFor(`/status: ${what}`, async () => {
    const s = await statusInNode(node);
    return pred(s) ? s : undefined;
  }, timeoutMs, 1000);
}

// sha256 of every regular file under /etc, keyed by path: the idempotency witness.
export async function hashEtc(node: Node): Promise<Map<string, string>> {
  const r = await node.sh('find /etc -xdev -type f -print0 | sort -z | xargs -0 sha256sum');
  return new Map(r.stdout.trim().split('\n').map((l) => { const [h, ...f] = l.split('  '); return [f.join('  '), h!] as [string, string]; }));
}

export function diffHashes(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [f, h] of a) if (b.get(f) !== h) out.push(b.has(f) ? `changed ${f}` : `removed ${f}`);
  for (const f of b.keys()) if (!a.has(f)) out.push(`added ${f}`);
  return out;
}

// Named images in containerd's k8s.io namespace (what crictl images shows), without
// the digest and image-id aliases CRI also records.
export async function k8sImages(node: Node): Promise<string[]> {
  const r = await node.exec(['ctr', '-n', 'k8s.io', 'images', 'ls', '-q']);
  return r.stdout.split('\n').map((s) => s.trim()).filter((s) => s && !s.startsWith('sha256:') && !s.includes('@')).sort();
}

// Facts that change only when something is restarted or installed: the witness that a
// converged re-run ran no changing command.
export async function churnWitness(node: Node): Promise<Record<string, string>> {
  const unit = async (u: string) => (await node.exec(['systemctl', 'show', u, '-p', 'ExecMainStartTimestampMonotonic,NRestarts,ActiveState'], { allowFailure: true })).stdout.trim();
  const size = async (f: string) => (await node.exec(['stat', '-c', '%s %Y', f], { allowFailure: true })).stdout.trim();
  return {
    containerd: await unit('containerd'),
    kubelet: await unit('kubelet'),
    dpkgLog: await size('/var/log/dpkg.log'),
    aptHistory: await size('/var/log/apt/history.log'),
    swaps: (await node.exec(['cat', '/proc/swaps'])).stdout,
  };
}

// Type=notify: the agent's READY=1 (sent by a systemd-notify child once /status says
// joined) reaches systemd a moment after /status flips, so give it a few seconds.
export async function waitUnitActive(node: Node, unit = 'joinagent'): Promise<void> {
  await waitFor(`${unit}.service active (READY=1 received)`, async () => {
    const s = (await node.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim();
    if (s === 'active') return true;
    throw new Error(`is-active says ${s}`);
  }, 15_000, 250);
}
