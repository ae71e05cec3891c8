import type { StepContext, StepError } from '../../../engine/step.js';
import type { RunOptions, RunResult } from '../../../host/proc.js';
import { packageError, type PackageManager } from './backend.js';
import { parseSignatureFailure, rpmKeys, signatureError, undoSignatureAttempt } from './dnf-signature.js';
import { unresolved, UnresolvedInstall } from './unresolved.js';
import { DNF4_LOCKLIST, DNF5_LOCKFILE, isDnf5, lockedVersions } from './versionlock.js';

const DNF_OPTS: RunOptions = { allowFailure: true, timeoutMs: 15 * 60_000 };
// The kube packages are excluded in their repo file (upstream's own repo file does it);
// our queries and installs lift that exclude for that repository only. dnf5 dropped
// --disableexcludes; the disable_excludes option is what both dnf 4 and dnf5 read.
const DISABLE_EXCLUDES = '--setopt=disable_excludes=kubernetes';
// -y on the read-only commands too: with repo_gpgcheck=1 (a hardened dnf.conf) dnf must
// import a repository's gpgkey= to verify repomd.xml, and without -y it asks, gets no
// answer and reports "repomd.xml GPG signature verification error" (dnf 4.14 and 5.4).
const ASSUME_YES = '-y';

// Parses `rpm -q --qf 'NAME\tVERSION-RELEASE\n'`; "package X is not installed" lines skip.
export function parseRpmQuery(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [name, version] = line.split('\t');
    if (name && version && !line.includes(' ')) out.set(name, version.trim());
  }
  return out;
}

// The hold is a versionlock entry: an exclude= line is lifted by the very
// --disableexcludes=kubernetes that upstream's install instructions use, and is lost when
// the repo file is rewritten; a versionlock holds through both (seen on dnf 4.14).
export const dnf: PackageManager = {
  refreshAfterRepoChange: false,
  async installed(ctx, names) {
    const r = await ctx.proc.probe('rpm', ['-q', '--qf', '%{NAME}\t%{VERSION}-%{RELEASE}\n', ...names], { allowFailure: true });
    const found = parseRpmQuery(r.stdout);
    const locks = await readLocks(ctx);
    return new Map(names.map((n) => [n, { version: found.get(n) ?? null, held: found.has(n) && locks.get(n) === found.get(n) }]));
  },
  async refresh(ctx) {
    ctx.progress('dnf makecache');
    const r = await ctx.proc.run('dnf', ['makecache', ASSUME_YES, '-q', '--refresh'], DNF_OPTS);
    if (r.exitCode !== 0) throw await failure(ctx, 'dnf makecache', r, null);
  },
  async available(ctx, names) {
    // the format carries real newlines: dnf5 prints it verbatim, dnf4 adds its own (blank lines skip)
    const r = await ctx.proc.probe('dnf', ['repoquery', ASSUME_YES, '-q', DISABLE_EXCLUDES, '--queryformat', '%{name}\t%{version}-%{release}\n', ...names], { allowFailure: true, timeoutMs: 5 * 60_000 });
    const rows = r.stdout.split('\n').map((l) => l.split('\t'));
    return new Map(names.map((n) => [n, [...new Set(rows.filter((f) => f[0] === n && f[1]).map((f) => f[1].trim()))]]));
  },
  async install(ctx, pkgs) {
    // a lock on another version hides the wanted one from the install: drop it first,
    // and put it back on what is installed afterwards, also when the install failed
    // (the step holds only what its check found unheld: a kubernetesVersion bump moved
    // 1.32.11 to 1.32.13 and left it unheld, seen on the Rocky node)
    const locks = await readLocks(ctx);
    const relock = pkgs.filter((p) => locks.has(p.name) && locks.get(p.name) !== p.version).map((p) => p.name);
    if (relock.length) {
      const d = await ctx.proc.run('dnf', ['versionlock', 'delete', '-q', ...relock], DNF_OPTS);
      if (d.exitCode !== 0) throw packageError('dnf versionlock delete', d);
    }
    ctx.progress(`dnf install ${pkgs.map((p) => p.name).join(' ')}`);
    const keysBefore = await rpmKeys(ctx);
    // an exact NEVR installs that version whatever is installed (a downgrade included);
    // no weak dependencies: kubelet recommends iptables, which on RHEL 10 pulls in
    // kernel-modules-extra (kubernetes/release#4518, and the kubeadm docs since then)
    const r = await ctx.proc.run('dnf', ['install', ASSUME_YES, '-q', '--setopt=install_weak_deps=False', DISABLE_EXCLUDES, ...pkgs.map((p) => `${p.name}-${p.version}`)], { ...DNF_OPTS, onLine: (l) => progressLine(ctx, l) });
    if (r.exitCode !== 0) {
      const e = await failure(ctx, 'dnf install', r, keysBefore);
      if (relock.length) await dnf.hold(ctx, relock).catch(() => undefined);
      throw e;
    }
    if (relock.length) await dnf.hold(ctx, relock);
  },
  async hold(ctx, names) {
    const installed = parseRpmQuery((await ctx.proc.probe('rpm', ['-q', '--qf', '%{NAME}\t%{VERSION}-%{RELEASE}\n', ...names], { allowFailure: true })).stdout);
    const locks = await readLocks(ctx);
    const stale = names.filter((n) => locks.has(n));
    if (stale.length) await ctx.proc.run('dnf', ['versionlock', 'delete', '-q', ...stale], DNF_OPTS);
    // name-version-release of what is installed: the lock names exactly that build
    const r = await ctx.proc.run('dnf', ['versionlock', 'add', '-q', ...names.map((n) => (installed.has(n) ? `${n}-${installed.get(n)}` : n))], DNF_OPTS);
    if (r.exitCode !== 0) throw packageError('dnf versionlock add', r);
  },
};

// A failed dnf run as a StepError: a signature failure names the repository and key and
// is undone first (not retryable: the same key fails the same way); anything else as usual.
async function failure(ctx: StepContext, what: string, r: RunResult, keysBefore: Set<string> | null): Promise<StepError> {
  const sig = parseSignatureFailure(`${r.stderr}\n${r.stdout}`);
  const u = sig ? undefined : unresolved(`${r.stdout}\n${r.stderr}`);
  if (u) return new UnresolvedInstall(what, r, u, 'rhel');
  if (!sig) return packageError(what, r);
  return signatureError(ctx, what, sig, await undoSignatureAttempt(ctx, sig, keysBefore));
}

// name -> locked version-release, from the lock file of the dnf this host runs: dnf5
// reads only versionlock.toml and dnf 4's plugin only its list, so a lock in the other
// file holds nothing.
async function readLocks(ctx: StepContext): Promise<Map<string, string>> {
  const file = (await isDnf5(ctx)) ? DNF5_LOCKFILE : DNF4_LOCKLIST;
  const text = await ctx.files.read(file);
  return text === null ? new Map() : lockedVersions(text, file);
}

function progressLine(ctx: StepContext, line: string): void {
  if (/^\s*(Installing|Downgrading|Upgrading|Verifying)\s*:/.test(line)) ctx.progress(line.trim().slice(0, 160));
}
