import type { Summary } from './summary.js';

// Renders bench/results.json as the README's markdown table: each figure of the summary
// next to its baseline from the same run and its target (issue 20), with a verdict; then
// the detail rows the sections measured.
type Dict = Record<string, unknown>;

const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'not measured');
const verdict = (ok: boolean | undefined): string => (ok === undefined ? '–' : ok ? 'met' : '**not met**');

export function renderTable(results: { date: string; machine: string; quick: boolean; load?: { before: number[]; after: number[] }; summary: Summary; sections: Dict }): string {
  const m = results.summary;
  const s = results.sections as Record<string, Dict | undefined>;
  const known = (...xs: number[]): boolean => xs.every(Number.isFinite);
  const rows: string[][] = [];

  const noop = s.noopRerun;
  const ansRatio = m.ansibleNoopSeconds / m.noopSeconds;
  rows.push([
    'no-op re-run, converged (joined) node',
    `${f(m.noopSeconds)} s`,
    `Ansible, reference playbook (${m.ansibleTasks} tasks) inside the node, --connection=local: ${f(m.ansibleNoopSeconds)} s = ${f(ansRatio, 1)}× joinagent` +
      (noop ? `; same playbook from a controller (nsenter connection): ${noop.ansibleControllerMedianS} s (${noop.ansibleControllerRatio}×); the bench's own full-scope playbook (packages, images) from a controller: ${noop.ansibleOwnMedianS} s (${noop.ansibleOwnRatio}×); runbook script ${noop.runbookMedianS} s (${noop.runbookRatio}×)` : ''),
    '≤ 0.15 s, ≥ 25× Ansible',
    verdict(known(m.noopSeconds, ansRatio) ? m.noopSeconds <= 0.15 && ansRatio >= 25 : undefined),
  ]);
  if (noop?.secondRunChanges) {
    const c = noop.secondRunChanges as Dict;
    rows.push(['changes made by a second run', `${c.joinagent}`, `Ansible: ${c.ansible}; runbook: ${c.runbook}`, 'none', verdict(String(c.joinagent).startsWith('0 ') ? true : undefined)]);
  }
  const firstRatio = m.firstRunSeconds / m.packageFloorSeconds;
  rows.push([
    'first run, fresh node (prepare + images)',
    `${f(m.firstRunSeconds)} s = ${f(firstRatio)}× the package transaction`,
    `the package transaction alone (apt-get update + one install of the six packages): ${f(m.packageFloorSeconds)} s; runbook script ${f(m.runbookFirstRunSeconds)} s`,
    '≤ 1.08× the package transaction',
    verdict(known(firstRatio) ? firstRatio <= 1.08 : undefined),
  ]);
  const startRatio = m.startupMs / m.helloStartupMs;
  rows.push(['start-up to a served /status', `${f(m.startupMs, 1)} ms = ${f(startRatio)}× hello-world`, `hello-world SEA server, same build: ${f(m.helloStartupMs, 1)} ms`, '≤ 1.5× hello-world', verdict(known(startRatio) ? startRatio <= 1.5 : undefined)]);
  const rssRatio = m.idleRssMiB / m.helloIdleRssMiB;
  rows.push(['idle daemon RSS, joined node', `${f(m.idleRssMiB, 1)} MiB = ${f(rssRatio)}× hello-world`, `hello-world SEA server in the same node: ${f(m.helloIdleRssMiB, 1)} MiB`, '≤ 1.3× hello-world', verdict(known(rssRatio) ? rssRatio <= 1.3 : undefined)]);
  const load = s.statusLoad;
  const during = load?.duringFirstRun as Dict | undefined;
  const hw = load?.helloWorld as Dict | undefined;
  const hwRun = load?.helloDuringFirstRun as Dict | undefined;
  rows.push([
    `/status during a real first run (${(during?.loadShape as string | undefined) ?? 'wrk'})`,
    `${f(m.statusRpsDuringFirstRun, 0)} req/s, p99 ${f(m.statusP99MsDuringFirstRun)} ms`,
    `${hwRun ? `the hello-world SEA server beside the same kind of first run, same load: ${hwRun.requestsPerSec} req/s, p99 ${hwRun.p99Ms} ms; ` : ''}${during ? `the agent's own event-loop delay over its run: ${JSON.stringify(during.agentEventLoopDelayMs)} ms; ` : ''}${hw ? `hello-world with no run beside it: ${hw.requestsPerSec} req/s, p99 ${hw.p99Ms} ms` : ''}`,
    '≥ 10,000 req/s, p99 ≤ 5 ms',
    verdict(known(m.statusRpsDuringFirstRun, m.statusP99MsDuringFirstRun) ? m.statusRpsDuringFirstRun >= 10_000 && m.statusP99MsDuringFirstRun <= 5 : undefined),
  ]);
  const fleet = s.fleet;
  const fleetRatio = m.fleetP95JoinSeconds / m.singleJoinSeconds;
  const retries = fleet?.agentRetries as Dict | undefined;
  const cp = (fleet?.controlPlane as Dict | undefined)?.fleet as Dict | undefined;
  const by = (cp?.bySender ?? {}) as Record<string, { requests: number; throttled: number }>;
  rows.push([
    `fleet: ${f(m.fleetNodes, 0)} nodes start their agents at once (golden image, loaded control plane)`,
    `${f(m.fleetJoined, 0)}/${f(m.fleetNodes, 0)} joined; p95 join ${f(m.fleetP95JoinSeconds)} s = ${f(fleetRatio)}× one node alone`,
    `one node alone: ${f(m.singleJoinSeconds)} s` +
      (cp ? `; control plane: ${cp.requests} requests, ${cp.meanPerSecond}/s mean, ${cp.peakPerSecond}/s peak, busiest 100 ms ${cp.peak100msOverMean}× the mean; by sender (requests/429s): ${Object.entries(by).map(([k, v]) => `${k} ${v.requests}/${v.throttled}`).join(', ')}` : '') +
      (retries ? `; agent: ${retries.retryAfterWaits} Retry-After waits, ${retries.stepRetries} step retries, at most ${retries.busiest500ms} due in any 500 ms` : ''),
    'all joined; p95 ≤ 2× one node; no retry storm',
    verdict(known(m.fleetJoined, fleetRatio) ? m.fleetJoined === m.fleetNodes && fleetRatio <= 2 : undefined),
  ]);
  const fp = s.footprint;
  rows.push(['binary size', `${f(m.binaryBytes / 1e6, 1)} MB`, fp ? `hello-world SEA ${fp.helloWorldSizeMB} MB (${fp.sizeRatio}×)` : '', '≤ 110 MB', verdict(known(m.binaryBytes) ? m.binaryBytes <= 110e6 : undefined)]);
  const idle = noop?.idle as Dict | undefined;
  if (idle) rows.push([`idle CPU over ${idle.windowSeconds} s, joined node`, `${idle.cpuPercent} %`, `hello-world ${idle.helloWorldCpuPercent} %`, 'no busy polling', '–']);
  const li = load?.idle as Dict | undefined;
  if (li) rows.push([`/status idle (${load?.loadShape})`, `${li.requestsPerSec} req/s, p99 ${li.p99Ms} ms`, hw ? `hello-world ${hw.requestsPerSec} req/s, p99 ${hw.p99Ms} ms` : '', '≥ 10,000 req/s', verdict(typeof li.requestsPerSec === 'number' ? li.requestsPerSec >= 10_000 : undefined)]);

  const loadNote = results.load ? ` Load average (1/5/15 min) ${results.load.before.join(' / ')} at the start, ${results.load.after.join(' / ')} at the end.` : '';
  const head = `Measured ${results.date.slice(0, 10)} on ${results.machine}${results.quick ? ' (quick run: shorter windows, fewer runs)' : ''}.${loadNote} Ratios within one run are what carry over; absolute times depend on the machine's load.\n\n| figure | joinagent | baseline (same run) | target | |\n| --- | --- | --- | --- | --- |`;
  return [head, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
