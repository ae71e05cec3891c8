import { StepError, type StepContext } from '../../../engine/step.js';
import { describeFailure, type RunResult } from '../../../host/proc.js';

// What the packages step needs from a package manager; apt.ts and dnf.ts implement it.
export interface PackageManager {
  /** apt must re-read the lists after a sources change; dnf fetches a new or changed
   *  repository's metadata by itself (its cache is keyed by repo id and URL). */
  refreshAfterRepoChange: boolean;
  /** Installed version per name (null = not installed) and whether it is held from
   *  upgrades, in one query. Read-only. */
  installed(ctx: StepContext, names: string[]): Promise<Map<string, { version: string | null; held: boolean }>>;
  /** Re-reads repository metadata (apt-get update / dnf makecache), of the given source
   *  files only when `only` is set; returns the sources it could not fetch when it still
   *  exits 0 (apt does: "W: Failed to fetch ..."). */
  refresh(ctx: StepContext, only?: string[]): Promise<string[] | void>;
  /** No source has metadata on this host yet (a fresh image): re-reading only the new
   *  sources would leave their dependencies (the distro's) unresolvable. */
  listsEmpty?(ctx: StepContext): Promise<boolean>;
  /** Versions the repositories offer, per package, in one query. Read-only. */
  available(ctx: StepContext, names: string[]): Promise<Map<string, string[]>>;
  /** Installs name=version pairs in one transaction. */
  install(ctx: StepContext, pkgs: { name: string; version: string }[]): Promise<void>;
  hold(ctx: StepContext, names: string[]): Promise<void>;
}

const TRANSIENT = /temporary failure|could not resolve|failed to fetch|connection (refused|timed out|reset)|unable to connect|cannot download|curl error|failed to download|timed? ?out|could not get lock|waiting for (cache )?lock|is locked|network is unreachable|503 service unavailable|hash sum mismatch/i;

// A package manager failure as a StepError: network trouble and a held lock are
// retryable (the engine backs off); anything else needs the operator. We never remove
// a lock file: another apt/dnf (unattended-upgrades, cloud-init) is working.
export function packageError(what: string, r: RunResult): StepError {
  const text = `${r.stderr}\n${r.stdout}`;
  const retryable = r.timedOut || TRANSIENT.test(text);
  const lock = /lock/i.test(text);
  const holder = lockHolder(text);
  const hint = lock
    ? `${holder ? `${holder.name} (pid ${holder.pid}) holds ${holder.file}` : 'another package manager run holds the lock (unattended-upgrades, cloud-init?)'}: let it finish (or stop it), joinagent waits host.packageLockWait per attempt and retries; never delete the lock file`
    : retryable
      ? 'the repository was not reachable: check the network, proxy and repositories.* in the config; joinagent retries with backoff'
      : 'run the command by hand to see the full error';
  return new StepError(`packages: ${what}: ${describeFailure(r)}${dpkgErrors(text)}`, hint, retryable);
}

// apt runs dpkg on a pty of its own, so dpkg's reasons ("dpkg: error processing package
// kubelet (--configure):" and the line under it) arrive on apt's stdout while its stderr
// ends with only "E: Sub-process /usr/bin/dpkg returned an error code (1)". Quote them.
export function dpkgErrors(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (/^dpkg: (error|unrecoverable)/.test(l)) out.push(l.trim(), ...(lines[i + 1]?.startsWith(' ') ? [lines[i + 1].trim()] : []));
  });
  return out.length ? `\n${[...new Set(out)].slice(0, 6).join('\n')}` : '';
}

// apt names the lock holder: "Could not get lock /var/lib/dpkg/lock-frontend. It is held by
// process 1234 (unattended-upgr)"; the last mention is the one apt gave up on.
export function lockHolder(text: string): { file: string; pid: number; name: string } | undefined {
  const all = [...text.matchAll(/Could not get lock (\S+?)\.? It is held by process (\d+) \(([^)]*)\)/g)];
  const m = all.at(-1);
  return m ? { file: m[1], pid: Number(m[2]), name: m[3] } : undefined;
}
