import { StepError } from '../../../engine/step.js';
import { describeFailure, type RunResult } from '../../../host/proc.js';

// An install that apt or dnf could not resolve or fetch, before anything was unpacked:
// a dependency no enabled repository offers ("kubelet : Depends: kubernetes-cni (>= 1.2.0)
// but it is not installable", "nothing provides kubernetes-cni >= 1.2.0 needed by
// kubelet-..."), or package lists older than the repository (a .deb that is gone: 404).
// Both are what stale or empty lists look like, so the step re-reads every source once
// before it gives up; then the reason is quoted as apt or dnf gave it.
export interface Unresolved {
  /** apt's / dnf's own lines that say why, as they printed them (trimmed) */
  reason: string[];
  /** the dependencies nothing offers, by name */
  missing: string[];
  /** an archive the lists name could not be fetched (404): the lists are older than the repository */
  staleLists: boolean;
}

const APT_UNMET = /^(?:\s*\S+ :)?\s+(?:Pre-)?Depends: (\S+)(?: \([^)]*\))? but (?:it is not installable|it is not going to be installed|.* is to be installed)/;
const DNF_NOTHING = /nothing provides (\S+)(?: [<>=]+ \S+)? needed by/;

// Recognises the failure in apt's or dnf's output (stdout and stderr together).
export function unresolved(text: string): Unresolved | undefined {
  const lines = text.split('\n');
  const reason: string[] = [];
  const missing: string[] = [];
  lines.forEach((l, i) => {
    const apt = APT_UNMET.exec(l);
    const dnf = DNF_NOTHING.exec(l);
    if (apt) missing.push(apt[1]);
    if (dnf) missing.push(dnf[1]);
    if (apt || dnf || /has no installation candidate|Unable to locate package|No match for argument/.test(l)) reason.push(l.trim());
    // apt names the package once, then indents its further unmet lines under it
    if (apt && !/ : /.test(l)) {
      const owner = lines.slice(0, i).reverse().find((p) => / : (?:Pre-)?Depends:/.test(p));
      if (owner) reason[reason.length - 1] = `${owner.trim().split(' : ')[0]} : ${l.trim()}`;
    }
  });
  const fetch = lines.filter((l) => /^E: Failed to fetch .* 404 /.test(l.trim())).map((l) => l.trim().replace(/\s+/g, ' '));
  if (!reason.length && !fetch.length) return undefined;
  return { reason: [...new Set([...reason, ...fetch])].slice(0, 8), missing: [...new Set(missing)], staleLists: fetch.length > 0 };
}

// The failed install, as the step reports it once a fresh read of every source did not
// help (the step re-reads and retries first): apt's or dnf's reason, what is missing, and
// where it has to come from. Not retryable: the same repositories give the same answer.
export class UnresolvedInstall extends StepError {
  constructor(
    what: string,
    r: RunResult,
    readonly unresolved: Unresolved,
    family: 'debian' | 'rhel',
  ) {
    const u = unresolved;
    const check = family === 'debian' ? 'apt-cache policy' : 'dnf provides';
    const names = u.missing.length ? u.missing.join(', ') : 'a dependency';
    const hint = u.staleLists && !u.missing.length
      ? 'a repository removed a package its index still names: check the mirror (a sync in progress?) and run joinagent again'
      : `no enabled repository offers ${names} (in a version the packages accept): kubernetes-cni and cri-tools come from the Kubernetes repository of the minor (pkgs.k8s.io), iptables and the like from the distribution's own repositories (${family === 'debian' ? 'the apt sources' : 'BaseOS/AppStream'}), which the host must reach (or a mirror or bundle must carry): check with '${check} ${u.missing[0] ?? 'NAME'}', fix the repository, then run joinagent again; nothing was installed`;
    const failed = describeFailure({ ...r, stderr: '', stdout: '' });
    super(`packages: ${what}: ${failed}: ${u.missing.length ? 'unmet dependencies' : 'the packages could not be fetched'} (with freshly read package lists):\n${u.reason.join('\n')}`, hint, false);
  }
}
