import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { footprint } from './footprint.js';
import { firstRun, noopRerun, withCleanup } from './nodes.js';
import { statusLoad } from './status-load.js';
import { fleet } from './fleet.js';
import { summarize, type Summary } from './summary.js';
import { renderTable } from './table.js';

// `npm run bench`: every section against its baseline in the same run; results to
// bench/results.json and the README table. BENCH_SECTIONS=a,b limits what runs;
// BENCH_QUICK=1 shortens windows (for a smoke run, not for published numbers);
// BENCH_NOOP_ONLY_IDLE=1 makes noopRerun measure only the idle daemon (footprint work).
const ROOT = path.resolve(import.meta.dirname, '..');
const BINARY = path.join(ROOT, 'dist/joinagent');
const quick = process.env.BENCH_QUICK === '1';

type Section = (work: string) => Promise<Record<string, unknown>>;
const sections: Record<string, Section> = {
  noopRerun: () => withCleanup(() => noopRerun(quick ? 3 : 5, quick ? 10 : 60)),
  firstRun: () => withCleanup(() => firstRun(quick ? 1 : 5)),
  footprint: (w) => footprint(BINARY, w),
  statusLoad: (w) => withCleanup(() => statusLoad(BINARY, w, quick ? 3 : 10)),
  fleet: () => withCleanup(() => fleet(Number(process.env.BENCH_FLEET_NODES ?? 20))),
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('npm run bench needs root (it boots nspawn nodes)');
  if (!existsSync(BINARY)) spawnSync('bash', ['build.sh'], { cwd: ROOT, stdio: 'inherit' });
  const wanted = (process.env.BENCH_SECTIONS ?? Object.keys(sections).join(',')).split(',');
  const work = mkdtempSync(path.join(os.tmpdir(), 'ja-bench-'));
  const resultsFile = path.join(ROOT, 'bench/results.json');
  const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { sections?: Record<string, unknown>; earlierSections?: Record<string, unknown> }) : {};
  // the summary and the table come from this run's sections only; sections not run this
  // time are kept apart (earlierSections), never mixed into this run's figures
  const earlier = { ...previous.earlierSections, ...previous.sections } as Record<string, unknown>;
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.release()}`,
    quick,
    load: { before: os.loadavg().map((x) => Math.round(x * 100) / 100), after: [] as number[] },
    summary: {} as Summary,
    sections: {} as Record<string, unknown>,
    earlierSections: {} as Record<string, unknown>,
  };
  const failed: string[] = [];
  try {
    for (const name of wanted) {
      const section = sections[name];
      if (!section) throw new Error(`unknown bench section ${name} (have: ${Object.keys(sections).join(', ')})`);
      process.stderr.write(`bench: ${name}...\n`);
      const t0 = Date.now();
      // an idle-only noopRerun keeps the section's other figures from the previous run
      const keep = name === 'noopRerun' && process.env.BENCH_NOOP_ONLY_IDLE === '1' ? (earlier[name] as Record<string, unknown> | undefined) : undefined;
      // a failed section is recorded and the others still run: one bad node must not cost
      // the figures of every other section
      try {
        results.sections[name] = { ...keep, ...(await section(work)), measuredAt: new Date().toISOString() };
      } catch (e) {
        failed.push(name);
        results.sections[name] = { error: (e as Error).message.split('\n').slice(0, 12).join('\n'), measuredAt: new Date().toISOString() };
        process.stderr.write(`bench: ${name} failed: ${(e as Error).message}\n`);
      }
      process.stderr.write(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  results.load.after = os.loadavg().map((x) => Math.round(x * 100) / 100);
  results.summary = summarize(results.sections);
  results.earlierSections = Object.fromEntries(Object.entries(earlier).filter(([k]) => !(k in results.sections)));
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
  const table = renderTable(results);
  process.stdout.write(table + '\n');
  const readme = path.join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const re = /(<!-- bench:start -->\n)[\s\S]*?(<!-- bench:end -->)/;
  if (re.test(text)) writeFileSync(readme, text.replace(re, `$1${table}\n$2`));
  if (failed.length) throw new Error(`sections failed: ${failed.join(', ')} (their errors are in bench/results.json)`);
}

main().catch((e: Error) => {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exitCode = 1;
});
