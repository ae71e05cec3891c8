import { print } from '../output.js';
import http from 'node:http';
import type { Command } from 'commander';
import { parseDuration } from '../../config/formats.js';
import { loadConfig } from '../../config/load.js';
import { sleep } from '../../engine/retry.js';
import { DEFAULT_STATUS_ADDRESS } from '../../host/paths.js';
import type { StatusDocument } from '../../status/model.js';
import { CliExit, EXIT } from '../exit.js';
import { globals } from '../globals.js';

interface StatusOpts {
  json?: boolean;
  wait?: boolean;
  timeout: string;
  address?: string;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('ask the running agent: exit 0 ready, 1 failed, 3 still working, 4 agent not reachable')
    .option('--json', 'print the /status JSON')
    .option('--wait', 'block until ready or failed (for scripts and cloud-init)')
    .option('--timeout <duration>', 'how long --wait waits', '15m')
    .option('--address <host:port>', 'agent status address (default: from the config, else 127.0.0.1:9797)')
    .action(async (o: StatusOpts, cmd: Command) => {
      const timeoutMs = parseDuration(o.timeout);
      if (timeoutMs === undefined) throw new CliExit(EXIT.usage, `--timeout: "${o.timeout}" is not a duration (e.g. 30s, 10m)`);
      const address = o.address ?? (await addressFromConfig(globals(cmd).config));
      const deadline = Date.now() + timeoutMs;
      let doc: StatusDocument | undefined;
      let lastErr = '';
      for (;;) {
        try {
          doc = await fetchStatus(address);
        } catch (e) {
          doc = undefined;
          lastErr = (e as Error).message;
        }
        // --wait also waits for an agent that is not up yet (cloud-init starts it first),
        // and through a failed run the daemon is going to retry (control plane not up yet)
        if (!o.wait || (doc && waitIsOver(doc)) || Date.now() >= deadline) break;
        await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
      }
      if (!doc) throw new CliExit(EXIT.unreachable, `joinagent: no agent answers at http://${address}/status (${lastErr}); is it running? (systemctl status joinagent)`);
      print(o.json ? JSON.stringify(doc, null, 2) + '\n' : renderStatus(doc));
      process.exitCode = codeFor(doc);
    });
}

// --wait ends on ready, or on a failure nobody will retry: while the daemon has a retry
// scheduled (control plane not up yet), a failed run is not the final word.
export function waitIsOver(doc: StatusDocument): boolean {
  const code = codeFor(doc);
  return code === EXIT.ok || (code === EXIT.failed && doc.next?.action !== 'retry');
}

export function codeFor(doc: StatusDocument): number {
  if (doc.ready) return EXIT.ok;
  if (doc.phase === 'failed' || doc.phase === 'prepared') return doc.phase === 'prepared' ? EXIT.ok : EXIT.failed;
  return EXIT.working;
}

async function addressFromConfig(file: string): Promise<string> {
  try {
    return (await loadConfig(file, { requireToken: false })).config.agent.status.address;
  } catch {
    return DEFAULT_STATUS_ADDRESS;
  }
}

export function fetchStatus(address: string, timeoutMs = 3000): Promise<StatusDocument> {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) return Promise.reject(new Error(`bad address ${address}`));
  return new Promise((resolve, reject) => {
    // the whole answer within timeoutMs and at most 16 MiB: whatever listens there is not
    // necessarily the agent
    const deadline = setTimeout(() => req.destroy(new Error('timed out')), timeoutMs);
    const req = http.get({ host: m[1], port: Number(m[2]), path: '/status', timeout: timeoutMs, headers: { host: 'localhost' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length > 16 << 20) req.destroy(new Error('the answer is larger than 16 MiB: not a joinagent'));
      });
      res.on('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
          resolve(JSON.parse(body) as StatusDocument);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message)));
  });
}

// The human table: phase and reason first, then one line per step.
export function renderStatus(doc: StatusDocument): string {
  const lines: string[] = [];
  lines.push(`node     ${doc.node.hostname}${doc.node.nodeIP ? ` (${(doc.node.nodeIPs ?? [doc.node.nodeIP]).join(', ')})` : ''}  ${doc.node.os}`);
  lines.push(`agent    ${doc.agent.version}  pid ${doc.agent.pid}  since ${doc.agent.startedAt}`);
  lines.push(`phase    ${doc.phase}${doc.ready ? '  READY' : ''}${doc.reason ? `  (${doc.reason})` : ''}`);
  const node = doc.published.node as { ready?: boolean; podCIDR?: string; reason?: string } | undefined;
  if (node) lines.push(`k8s node ${node.ready ? 'Ready' : `not Ready${node.reason ? `: ${node.reason}` : ''}`}${node.podCIDR ? `  podCIDR ${node.podCIDR}` : ''}`);
  lines.push('');
  const w = Math.max(4, ...doc.steps.map((s) => s.id.length));
  for (const s of doc.steps) {
    const dur = s.durationMs !== undefined ? `${(s.durationMs / 1000).toFixed(1)}s` : '';
    lines.push(`  ${s.id.padEnd(w)}  ${s.state.padEnd(8)} ${dur.padStart(7)}  ${s.progress && s.state === 'running' ? s.progress : (s.message ?? '')}`);
    // a running step with a hint is between retries: what to check matters now, not at the end
    if (s.hint && (s.state === 'failed' || s.state === 'running')) lines.push(`  ${' '.repeat(w)}  hint: ${s.hint}`);
  }
  if (doc.lastError) lines.push('', `error    ${doc.lastError.step ? `${doc.lastError.step}: ` : ''}${doc.lastError.message}`, ...(doc.lastError.hint ? [`hint     ${doc.lastError.hint}`] : []));
  for (const wng of doc.warnings) lines.push(`warning  ${wng.message}${wng.hint ? ` (${wng.hint})` : ''}`);
  if (doc.next?.action === 'retry') lines.push(`next     retry (attempt ${doc.next.attempt}) at ${doc.next.at}`);
  if (doc.drift.steps.length) lines.push(`drift    ${doc.drift.steps.join(', ')} (${doc.drift.repairs} repairs)`);
  return lines.join('\n') + '\n';
}
