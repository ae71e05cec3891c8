import type { StepContext } from '../../../engine/step.js';
import type { RunOptions } from '../../../host/proc.js';
import { packageError, type PackageManager } from './backend.js';

const DNF_OPTS: RunOptions = { allowFailure: true, timeoutMs: 15 * 60_000 };
// The kube packages are excluded in their repo file (our hold); every query and install
// of ours lifts that exclude for that one repository only.
const DISABLE_EXCLUDES = '--disableexcludes=kubernetes';

// Parses `rpm -q --qf 'NAME\tVERSION-RELEASE\n'`; "package X is not installed" lines skip.
export function parseRpmQuery(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [name, version] = line.split('\t');
    if (name && version && !line.includes(' ')) out.set(name, version.trim());
  }
  return out;
}

export const dnf: PackageManager = {
  refreshAfterRepoChange: false,
  async installed(ctx, names) {
    const r = await ctx.proc.probe('rpm', ['-q', '--qf', '%{NAME}\t%{VERSION}-%{RELEASE}\n', ...names], { allowFailure: true });
    const found = parseRpmQuery(r.stdout);
    // dnf's hold is the exclude= line of kubernetes.repo, which the repo file check owns
    return new Map(names.map((n) => [n, { version: found.get(n) ?? null, held: true }]));
  },
  async refresh(ctx) {
    ctx.progress('dnf makecache');
    const r = await ctx.proc.run('dnf', ['makecache', '-q', '--refresh'], DNF_OPTS);
    if (r.exitCode !== 0) throw packageError('dnf makecache', r);
  },
  async available(ctx, names) {
    // the format carries real newlines: dnf5 prints it verbatim, dnf4 adds its own (blank lines skip)
    const r = await ctx.proc.probe('dnf', ['repoquery', '-q', DISABLE_EXCLUDES, '--queryformat', '%{name}\t%{version}-%{release}\n', ...names], { allowFailure: true, timeoutMs: 5 * 60_000 });
    const rows = r.stdout.split('\n').map((l) => l.split('\t'));
    return new Map(names.map((n) => [n, [...new Set(rows.filter((f) => f[0] === n && f[1]).map((f) => f[1].trim()))]]));
  },
  async install(ctx, pkgs) {
    ctx.progress(`dnf install ${pkgs.map((p) => p.name).join(' ')}`);
    // an exact NEVR installs that version whatever is installed (a downgrade included)
    const r = await ctx.proc.run('dnf', ['install', '-y', '-q', '--setopt=install_weak_deps=False', DISABLE_EXCLUDES, ...pkgs.map((p) => `${p.name}-${p.version}`)], { ...DNF_OPTS, onLine: (l) => progressLine(ctx, l) });
    if (r.exitCode !== 0) throw packageError('dnf install', r);
  },
  async hold() {
    // nothing to do: see held()
  },
};

function progressLine(ctx: StepContext, line: string): void {
  if (/^\s*(Installing|Downgrading|Upgrading|Verifying)\s*:/.test(line)) ctx.progress(line.trim().slice(0, 160));
}
