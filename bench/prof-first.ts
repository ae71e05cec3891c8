// scratch profiler (not committed)
import { ensureBinary } from '../test/e2e/harness/agent.js';
import { cleanupAll } from '../test/e2e/harness/cleanup.js';
import { startWorld } from '../test/e2e/harness/world.js';
const log = (m: string) => process.stderr.write(m + '\n');
const slot = Number(process.env.SLOT ?? 122);
const cmd = process.env.CMD ?? 'joinagent prepare --config /root/joinagent.yaml --log-format json --log-level debug';
const pre = process.env.PRE;
const binary = await ensureBinary(log);
const w = await startWorld({ slot, controlPlane: Boolean(process.env.CP), log: () => {} });
try {
  await w.node.copyIn(binary, '/usr/local/bin/joinagent', 0o755);
  await w.node.writeFile('/root/joinagent.yaml', w.config, 0o600);
  for (const pair of (process.env.COPY ?? '').split(',').filter(Boolean)) { const [a, b] = pair.split(':'); await w.node.copyIn(a, b, 0o755); }
  if (process.env.OUT) for (const pair of []) void pair;
  if (process.env.RUNBOOK) await w.node.copyIn('bench/runbook.sh', '/root/runbook.sh', 0o755);
  if (pre) { const r = await w.node.sh(pre); log(r.stdout + r.stderr); }
  for (const c of cmd.split(';;')) {
    const t0 = Date.now();
    const r = await w.node.sh(c.replaceAll('@REPO@', w.repo.url).replaceAll('@REG@', w.registry.address).replaceAll('@IP@', w.node.link.host), { allowFailure: true, timeoutMs: 600000 } as never);
    const t = Date.now() - t0;
    process.stdout.write(r.stdout + r.stderr + `\n==> ${c}: exit ${r.exitCode} in ${t} ms\n`);
  }
  if (process.env.FETCH) { const [a, b] = process.env.FETCH.split(':'); const { execSync } = await import('node:child_process'); execSync(`cp -r ${w.node.root}${a} ${b}`); }
} finally { await w.close(); await cleanupAll(); }
