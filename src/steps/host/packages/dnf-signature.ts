import { StepError, type StepContext } from '../../../engine/step.js';
import { repositoryPlan } from './repos.js';

// A dnf run that failed on OpenPGP signatures (gpgcheck on packages, repo_gpgcheck on
// repomd.xml), in dnf 4's and dnf5's own words:
//   dnf 4: "Public key for kubelet-1.32.11-150500.1.1.x86_64.rpm is not installed. Failing
//          package is: kubelet-..." / " GPG Keys are configured as: file:///etc/pki/..." /
//          "Error: GPG check FAILED"; repo_gpgcheck: "Failed to download metadata for repo
//          'kubernetes': repomd.xml GPG signature verification error: Bad GPG signature"
//   dnf5:  "OpenPGP check for package "kubelet-..." (/var/cache/...) from repo "kubernetes"
//          has failed: Import of the key didn't help, wrong key?"; repo_gpgcheck: "Failed
//          to download metadata (baseurl: "...") for repository "kubernetes": repomd.xml
//          GPG signature verification error: Signing key not found"
export interface SignatureFailure {
  /** repository ids dnf named */
  repos: string[];
  /** NEVRAs of the packages that failed the check */
  packages: string[];
  /** gpgkey= URLs dnf said it used (dnf 4) */
  keyUrls: string[];
  /** dnf's own reason, one line */
  reason: string;
}

const SIGNATURE = /GPG check FAILED|Signature verification failed|OpenPGP check for package|repomd\.xml GPG signature verification error|Public key for \S+ is not installed|is not signed|didn't help, wrong key/;

export function parseSignatureFailure(text: string): SignatureFailure | null {
  if (!SIGNATURE.test(text)) return null;
  const all = (re: RegExp): string[] => [...new Set([...text.matchAll(re)].map((m) => m[1]))];
  const repos = [...all(/for repo '([^']+)': repomd\.xml GPG/g), ...all(/for repository "([^"]+)": repomd\.xml GPG/g), ...all(/from repo "([^"]+)" has failed/g)];
  const packages = [...all(/Failing package is: (\S+)/g), ...all(/OpenPGP check for package "([^"]+)"/g), ...all(/Package (\S+?)\.rpm is not signed/g)];
  const keyUrls = all(/GPG Keys are configured as: (.+)/g).flatMap((l) => l.split(',').map((u) => u.trim()).filter(Boolean));
  const reason =
    /repomd\.xml GPG signature verification error: ([^\n]+)/.exec(text)?.[0] ??
    /has failed: ([^\n]+)/.exec(text)?.[1] ??
    /(Import of key\(s\) didn't help, wrong key\(s\)\?)/.exec(text)?.[1] ??
    /(\S+ is not signed)/.exec(text)?.[1] ??
    /(Public key for \S+ is not installed)/.exec(text)?.[1] ??
    'GPG check FAILED';
  return { repos: [...new Set(repos)], packages: [...new Set(packages)], keyUrls: [...new Set(keyUrls)], reason: reason.trim() };
}

// The repositories joinagent writes, by id: the key file each one names and where that
// key came from.
function ourRepos(ctx: StepContext): { id: string; keyPath: string; source: string; configured: boolean; name: string }[] {
  const plan = repositoryPlan(ctx.config, ctx.facts, { id: ctx.facts.osId });
  return plan.files.flatMap((f) => {
    const id = /^\[([^\]]+)\]$/m.exec(f.content)?.[1];
    const keyPath = /^gpgkey=file:\/\/(.+)$/m.exec(f.content)?.[1];
    const key = plan.keys.find((k) => k.path === keyPath);
    if (!id || !keyPath || !key) return [];
    const name = id === 'kubernetes' ? 'kubernetes' : 'docker';
    return [{ id, keyPath, source: key.source, configured: Boolean(ctx.config.agent.repositories[name]?.key), name }];
  });
}

// Which of our repositories a failure is about: named by id (dnf5, repo_gpgcheck), by the
// key URL dnf used (dnf 4), or by the package (kube packages come from "kubernetes").
function failingRepos(ctx: StepContext, f: SignatureFailure) {
  const ours = ourRepos(ctx);
  const byPackage = (nevra: string): string => (/^(kubelet|kubeadm|kubectl|cri-tools|kubernetes-cni)-\d/.test(nevra) ? 'kubernetes' : /^containerd\.io-\d/.test(nevra) ? 'docker-ce-stable' : '');
  const ids = new Set([...f.repos, ...ours.filter((r) => f.keyUrls.includes(`file://${r.keyPath}`)).map((r) => r.id), ...f.packages.map(byPackage).filter(Boolean)]);
  return { ours: ours.filter((r) => ids.has(r.id)), others: [...ids].filter((id) => !ours.some((r) => r.id === id)) };
}

// The operator's error: which repository, which key file and where it came from, what dnf
// said; after the caller has put the keyring and the key files back as they were.
export function signatureError(ctx: StepContext, what: string, f: SignatureFailure, cleaned: string[]): StepError {
  const { ours, others } = failingRepos(ctx, f);
  const pkgs = f.packages.length ? ` (${f.packages.join(', ')})` : '';
  const parts = [
    ...ours.map((r) => `repository "${r.id}"${pkgs} does not verify with the key in ${r.keyPath} (${r.configured ? `repositories.${r.name}.key: ${r.source}` : `downloaded from ${r.source}`})`),
    ...others.map((id) => `repository "${id}"${pkgs} does not verify with its configured key (the host's own repository: /etc/yum.repos.d, /etc/pki/rpm-gpg)`),
  ];
  const message = `packages: ${what}: ${parts.join('; ') || `signature check failed${pkgs}`}: ${f.reason}; nothing was installed`;
  const fix = ours.length
    ? `set repositories.${ours[0].name}.key to the key that signs ${ours[0].id}${ours[0].name === 'kubernetes' ? ' (pkgs.k8s.io serves it beside the metadata: <url>/repodata/repomd.xml.key)' : ' (Docker serves it at <url>/gpg)'}`
    : 'import the distribution\'s key (rpm --import /etc/pki/rpm-gpg/...) or fix the gpgkey= line of that repository';
  return new StepError(message, `${fix}${cleaned.length ? `; joinagent undid what the failed attempt left: ${cleaned.join(', ')}` : ''}`);
}

// Puts back what a failed, signature-checked attempt changed: keys dnf imported into rpm's
// keyring (a wrong key would stay trusted for every repository), and key files joinagent
// downloaded for a failing repository (they are fetched only when absent, so a rotated or
// corrected key URL would never be read again).
export async function undoSignatureAttempt(ctx: StepContext, f: SignatureFailure, keysBefore: Set<string> | null): Promise<string[]> {
  const done: string[] = [];
  if (keysBefore) {
    const added = [...(await rpmKeys(ctx))].filter((k) => !keysBefore.has(k));
    if (added.length) {
      const r = await ctx.proc.run('rpm', ['-e', '--allmatches', ...added], { allowFailure: true });
      if (r.exitCode === 0) done.push(`removed ${added.join(', ')} from rpm's keyring`);
    }
  }
  for (const r of failingRepos(ctx, f).ours) {
    if (r.source.startsWith('/')) continue;
    if (await ctx.files.remove(r.keyPath, { backup: true })) done.push(`deleted ${r.keyPath} (fetched again from ${r.source} on the next run)`);
  }
  return done;
}

// The public keys rpm trusts (gpg-pubkey-<id>-<date>; rpm's default rpmdb keystore).
export async function rpmKeys(ctx: StepContext): Promise<Set<string>> {
  const r = await ctx.proc.probe('rpm', ['-q', 'gpg-pubkey', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}\n'], { allowFailure: true });
  return new Set(r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('gpg-pubkey-')));
}
