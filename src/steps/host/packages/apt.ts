import { StepError, type StepContext } from '../../../engine/step.js';
import type { RunOptions, RunResult } from '../../../host/proc.js';
import { packageError, type PackageManager } from './backend.js';
import { dpkgQueryFromStatus } from './dpkg-status.js';
import { unresolved, UnresolvedInstall } from './unresolved.js';

// Unattended and bounded: no prompts (keep existing config files), wait for the dpkg lock
// (host.packageLockWait, default 2m) instead of failing at once (or deleting it, as some
// scripts do).
const APT_ENV: RunOptions = { env: { DEBIAN_FRONTEND: 'noninteractive' }, allowFailure: true, timeoutMs: 15 * 60_000 };
const lock = (ctx: StepContext): string[] => ['-o', `DPkg::Lock::Timeout=${Math.max(0, Math.round(ctx.config.agent.host.packageLockWait / 1000))}`];

const DPKG_QUERY_FORMAT = '-f=${Package}\t${Version}\t${db:Status-Abbrev}\n';

// apt refuses every install after a dpkg run was cut short (power loss, a killed agent or
// apt): "dpkg was interrupted, you must manually run 'dpkg --configure -a'".
const INTERRUPTED = /dpkg was interrupted/;

// Finishes the interrupted transaction the way apt asks, keeping existing config files,
// so a crashed run resumes instead of failing on every retry. A package dpkg was killed
// while unpacking is left "half-installed" (reinstreq): `dpkg --configure -a` cannot
// configure it ("package is in a very bad inconsistent state; you should reinstall it"),
// but it has replayed dpkg's journal, so the install that follows is accepted by apt and
// reinstalls that package. Its failure is returned, to be quoted if the install fails too.
async function finishInterrupted(ctx: StepContext): Promise<StepError | undefined> {
  ctx.warn('packages: a previous dpkg run was interrupted; finishing it with dpkg --configure -a', 'nothing to do: joinagent resumes the install');
  ctx.progress('dpkg --configure -a (an earlier package run was interrupted)');
  const r = await ctx.proc.run('dpkg', ['--configure', '-a', '--force-confdef', '--force-confold'], APT_ENV);
  return r.exitCode === 0 ? undefined : packageError('dpkg --configure -a', r);
}

// Packages dpkg left half-done (killed while unpacking or configuring): db:Status-Abbrev's
// second letter H (half-installed), U (unpacked), F (half-configured), or the R
// (reinstall required) error flag.
async function halfInstalled(ctx: StepContext, names: string[]): Promise<string[]> {
  const r = await ctx.proc.probe('dpkg-query', ['-W', DPKG_QUERY_FORMAT, ...names], { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([name, , st]) => name && st && (/[HUF]/.test(st[1] ?? '') || st[2] === 'R'))
    .map(([name]) => name);
}

// Parses `apt-cache madison NAME`: "  kubelet | 1.32.11-1.1 | https://... Packages".
export function parseMadison(text: string, name: string): string[] {
  return text
    .split('\n')
    .map((l) => l.split('|').map((f) => f.trim()))
    .filter((f) => f.length >= 3 && f[0] === name)
    .map((f) => f[1]);
}

// Parses dpkg-query lines "NAME\tVERSION\tSTATUS"; only fully installed packages count.
// Status-Abbrev is selection + state: "ii" installed, "hi" installed and held (what
// apt-mark hold leaves), "rc" removed: the second letter is the installed state.
export function parseDpkgQuery(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [name, version, status] = line.split('\t');
    if (name && version && status?.[1] === 'i') out.set(name, version);
  }
  return out;
}

const APT_LISTS = '/var/lib/apt/lists';

export const apt: PackageManager = {
  refreshAfterRepoChange: true,
  // one dpkg-query for versions and holds: dpkg's selection state "h" is what `apt-mark
  // hold` sets and `showhold` lists (apt-mark would load apt's cache and run dpkg twice)
  async installed(ctx, names) {
    // dpkg's status file when it is the whole truth (dpkg-status.ts), else dpkg-query, which
    // exits 1 when one of the names is unknown, yet prints the others
    const stdout = (await dpkgQueryFromStatus(ctx.files, names)) ?? (await ctx.proc.probe('dpkg-query', ['-W', DPKG_QUERY_FORMAT, ...names], { allowFailure: true })).stdout;
    const found = parseDpkgQuery(stdout);
    const held = new Set(stdout.split('\n').map((l) => l.split('\t')).filter(([name, , status]) => name && status?.[0] === 'h').map(([name]) => name));
    return new Map(names.map((n) => [n, { version: found.get(n) ?? null, held: held.has(n) }]));
  },
  async refresh(ctx, only) {
    const failed: string[] = [];
    // one source file: the other lists stay as they are (List-Cleanup=0 keeps apt from
    // deleting them as "obsolete" when it sees only this file)
    for (const scope of only ? only.map((f) => ['-o', `Dir::Etc::sourcelist=${ctx.files.resolve(f)}`, '-o', 'Dir::Etc::sourceparts=-', '-o', 'APT::Get::List-Cleanup=0']) : [[]]) {
      ctx.progress(`apt-get update${only ? ` (${scope[1].slice('Dir::Etc::sourcelist='.length)})` : ''}`);
      const r = await ctx.proc.run('apt-get', ['update', '-q', ...lock(ctx), ...scope], APT_ENV);
      // exit 0 with "W: Failed to fetch" for an unrelated, unreachable source is common (air-gapped
      // hosts); a missing version of ours is reported later, naming the package.
      if (r.exitCode !== 0) throw packageError('apt-get update', r);
      failed.push(...fetchFailures(`${r.stderr}\n${r.stdout}`));
    }
    return failed;
  },
  // apt keeps one *_Packages index per source and architecture in its lists directory; a
  // fresh cloud or container image ships with none (cloud-init's package_update runs later)
  async listsEmpty(ctx) {
    return !(await ctx.files.list(APT_LISTS)).some((f) => /_Packages(\.\w+)?$/.test(f));
  },
  async available(ctx, names) {
    const r = await ctx.proc.probe('apt-cache', ['madison', ...names], { allowFailure: true });
    return new Map(names.map((n) => [n, parseMadison(r.stdout, n)]));
  },
  async install(ctx, pkgs) {
    ctx.progress(`apt-get install ${pkgs.map((p) => p.name).join(' ')}`);
    const args = ['install', '-y', '-q', '--no-install-recommends', '--allow-downgrades', '--allow-change-held-packages', ...lock(ctx), '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
    const names = pkgs.map((p) => p.name);
    const install = async (): Promise<RunResult> => {
      // apt calls a half-installed package of the same version "already the newest version",
      // exits 0 and leaves it broken: only --reinstall unpacks it again
      const reinstall = (await halfInstalled(ctx, names)).length > 0 ? ['--reinstall'] : [];
      return ctx.proc.run('apt-get', [...args, ...reinstall, ...pkgs.map((p) => `${p.name}=${p.version}`)], { ...APT_ENV, onLine: (l) => progressLine(ctx, l) });
    };
    let r = await install();
    let recovery: StepError | undefined;
    if (r.exitCode !== 0 && INTERRUPTED.test(`${r.stderr}\n${r.stdout}`)) {
      recovery = await finishInterrupted(ctx);
      r = await install();
    }
    if (r.exitCode !== 0) {
      const u = unresolved(`${r.stdout}\n${r.stderr}`);
      if (u) throw new UnresolvedInstall('apt-get install', r, u, 'debian');
      const e = packageError('apt-get install', r);
      throw recovery ? new StepError(`${e.message}\n(before it, ${recovery.message.replace(/^packages: /, '')})`, e.hint, e.retryable) : e;
    }
  },
  async hold(ctx, names) {
    const r = await ctx.proc.run('apt-mark', ['hold', ...names], { allowFailure: true });
    if (r.exitCode !== 0) throw packageError('apt-mark hold', r);
  },
};

// dpkg's "Setting up kubelet (1.32.11-1.1) ..." lines as /status progress.
function progressLine(ctx: StepContext, line: string): void {
  if (/^(Setting up|Unpacking|Get:\d+)/.test(line)) ctx.progress(line.slice(0, 160));
}

// apt-get update exits 0 when a source cannot be fetched, warning
// "W: Failed to fetch http://host/debian/InRelease  Could not connect to host:8080 ...".
export function fetchFailures(text: string): string[] {
  return [...new Set(text.split('\n').map((l) => /^[WE]: Failed to fetch (.+)$/.exec(l.trim())?.[1]?.replace(/\s+/g, ' ')).filter((x): x is string => Boolean(x)))];
}
