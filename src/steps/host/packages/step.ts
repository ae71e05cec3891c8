import { StepError, type Change, type Step, type StepContext } from '../../../engine/step.js';
import { parseOsRelease, type DistroFamily } from '../../../host/facts.js';
import { paths } from '../../../host/paths.js';
import { describeFailure } from '../../../host/proc.js';
import { enabledFromUnitFiles } from '../../../host/unit-files.js';
import { commandChange, fileChange } from '../file-change.js';
import { apt } from './apt.js';
import type { PackageManager } from './backend.js';
import { dnf } from './dnf.js';
import { localRepoDir } from '../../../config/formats.js';
import { SUMS, verifyBundleDir } from '../../../bundle/checksums.js';
import { keyChange, writeDownloadedKeys } from './keys.js';
import { repositoryPlan } from './repos.js';
import { isDnf5 } from './versionlock.js';
import { UnresolvedInstall } from './unresolved.js';
import { pickVersion, versionMatches, wantedPackages, type WantedPackage } from './wanted.js';

const PKG = 'package ';
// --no-reload: enabling only adds the wants symlink (read at boot, and by is-enabled);
// the implied daemon-reload re-reads every unit (~130 ms) and changes nothing here, as
// the package's own scripts already reloaded for the new unit file.
const ENABLE_KUBELET = ['systemctl', 'enable', '--no-reload', 'kubelet'];
const HOLD = 'hold ';

export function packageManager(family: DistroFamily): PackageManager {
  return family === 'debian' ? apt : dnf;
}

// packages: every package joinagent installs (kube packages and containerd), their
// repositories and holds, in one package-manager transaction per run.
export const packagesStep: Step = {
  id: 'packages',
  title: 'packages: kubelet, kubeadm, kubectl, cri-tools, containerd',
  phase: 'host',
  // a local mirror may be reachable only by a name the hosts step adds (air-gapped sites),
  // or only through the proxy
  after: ['hosts', 'proxy'],
  resources: ['package-manager'],
  retry: { attempts: 4, baseMs: 5_000, maxMs: 60_000 },
  async check(ctx) {
    const family = familyOf(ctx);
    const pm = packageManager(family);
    const changes: Change[] = [];
    const plan = repositoryPlan(ctx.config, ctx.facts, await osInfo(ctx));
    for (const k of plan.keys) {
      const c = await keyChange(ctx, k);
      if (c) changes.push(c);
    }
    for (const f of plan.files) {
      const c = await fileChange(ctx, f.path, f.content);
      if (c) changes.push(c);
    }
    const wanted = wantedPackages(ctx.config, ctx.facts, { dnf5: family === 'rhel' && (await isDnf5(ctx)) });
    const installed = await pm.installed(ctx, wanted.map((w) => w.name));
    for (const w of wanted) {
      const have = installed.get(w.name)?.version ?? null;
      if (have === null || !versionMatches(have, w.version)) changes.push({ kind: 'value', name: PKG + w.name, live: have ?? 'absent', wanted: w.version ?? 'installed' });
    }
    for (const w of wanted) if (w.hold && !installed.get(w.name)?.held) changes.push({ kind: 'value', name: HOLD + w.name, live: 'no', wanted: 'yes' });
    // the unit files answer "enabled" without a process when they can (host/unit-files.ts)
    if (!(await enabledFromUnitFiles(ctx.files, 'kubelet.service'))) {
      const enabled = await ctx.proc.probe('systemctl', ['is-enabled', 'kubelet'], { allowFailure: true });
      if (!enabled.notFound && enabled.stdout.trim() !== 'enabled') changes.push(commandChange(ENABLE_KUBELET, [['systemctl', 'disable', 'kubelet']]));
    }
    return changes.length ? { state: 'change', changes } : { state: 'ok', message: wanted.map((w) => `${w.name} ${installed.get(w.name)?.version}`).join(', ') };
  },
  async apply(ctx, changes) {
    const pm = packageManager(familyOf(ctx));
    let keysChanged = await writeDownloadedKeys(ctx, changes, repositoryPlan(ctx.config, ctx.facts, await osInfo(ctx)).keys);
    const sources: string[] = [];
    for (const c of changes) {
      if (c.kind !== 'file' || c.after === null || !(await ctx.files.write(c.path, c.after, { mode: 0o644 })).changed) continue;
      if (/\.(list|sources)$/.test(c.path)) sources.push(c.path);
      else keysChanged = true;
    }
    // new source files: re-read just those; a new key alone (rotation) re-reads everything
    let refresh: Refresh = !pm.refreshAfterRepoChange ? null : sources.length ? sources : keysChanged ? 'all' : null;
    const wanted = wantedPackages(ctx.config, ctx.facts, { dnf5: ctx.facts.family === 'rhel' && (await isDnf5(ctx)) });
    const toInstall = wanted.filter((w) => changes.some((c) => c.kind === 'value' && c.name === PKG + w.name));
    if (toInstall.length) {
      await verifyLocalRepos(ctx);
      // no lists at all (a fresh image): one full update now, not ours first and then, when
      // the install cannot resolve the distro's dependencies, everything
      if (Array.isArray(refresh) && (await pm.listsEmpty?.(ctx))) refresh = 'all';
      const { pkgs, refreshedAll } = await resolveVersions(ctx, pm, toInstall, refresh);
      await installWithFreshLists(ctx, pm, pkgs, refreshedAll);
    }
    const toHold = changes.filter((c) => c.kind === 'value' && c.name.startsWith(HOLD)).map((c) => (c.kind === 'value' ? c.name.slice(HOLD.length) : ''));
    if (toHold.length) await pm.hold(ctx, toHold);
    if (changes.some((c) => c.kind === 'action' && c.description.endsWith(ENABLE_KUBELET.join(' ')))) {
      // enable only: kubeadm join starts kubelet once its configuration exists
      const r = await ctx.proc.run(ENABLE_KUBELET[0], ENABLE_KUBELET.slice(1), { allowFailure: true });
      if (r.exitCode !== 0) throw new StepError(`packages: systemctl enable kubelet: ${describeFailure(r)}`, /masked/.test(r.stderr) ? 'kubelet is masked: systemctl unmask kubelet' : 'check that the kubelet package installed kubelet.service');
    }
  },
};

export type Refresh = string[] | 'all' | null;

// An install apt or dnf could not resolve (a dependency "not installable", an archive the
// lists name but the mirror no longer has) is what empty or stale lists look like: a fresh
// cloud image, lists from before the repository changed. Every source is re-read once and
// the install tried again; what still fails is the repositories' (UnresolvedInstall).
async function installWithFreshLists(ctx: StepContext, pm: PackageManager, pkgs: { name: string; version: string }[], refreshedAll: boolean): Promise<void> {
  try {
    await pm.install(ctx, pkgs);
  } catch (e) {
    if (!(e instanceof UnresolvedInstall) || refreshedAll) throw e;
    ctx.progress(`${e.unresolved.reason[0] ?? 'unresolved'}: re-reading every package source and trying again`);
    await pm.refresh(ctx);
    await pm.install(ctx, pkgs);
  }
}

// A repository that is an unpacked joinagent bundle is checked against its SHA256SUMS
// before apt or dnf reads anything from it: a damaged or altered file stops the run
// before the package manager sees it.
async function verifyLocalRepos(ctx: StepContext): Promise<void> {
  for (const r of ['kubernetes', 'docker'] as const) {
    const dir = localRepoDir(ctx.config.agent.repositories[r]?.url);
    if (!dir) continue;
    ctx.progress(`checking ${dir}${SUMS}`);
    const n = await verifyBundleDir(ctx.files, dir, 'packages');
    if (n !== null) ctx.publish('bundle', { ...((ctx.published.bundle as object) ?? {}), packages: { dir, verified: n } });
  }
}

// Exact versions to install. apt re-reads the sources joinagent just wrote (not every
// mirror of the host: seconds on a cloud image), and everything only when a wanted
// version is not in the cached metadata (a new patch release, empty distro lists).
export async function resolveVersions(ctx: StepContext, pm: PackageManager, pkgs: WantedPackage[], refresh: Refresh): Promise<{ pkgs: { name: string; version: string }[]; refreshedAll: boolean }> {
  let unfetched: string[] = [];
  let refreshedAll = refresh === 'all';
  if (refresh) unfetched = (await pm.refresh(ctx, refresh === 'all' ? undefined : refresh)) ?? [];
  let found = await lookup(ctx, pm, pkgs);
  if (refresh !== 'all' && found.some((f) => f.version === undefined)) {
    unfetched = (await pm.refresh(ctx)) ?? [];
    refreshedAll = true;
    found = await lookup(ctx, pm, pkgs);
  }
  const missing = found.filter((f) => f.version === undefined);
  // missing because a repository could not be read (down, 500s): retry, not a config error
  if (missing.length && unfetched.length) {
    throw new StepError(`packages: ${missing.map((m) => m.name).join(', ')} not available: apt-get update could not fetch ${unfetched.join('; ')}`, 'the repository was not reachable: check the network, proxy and repositories.* in the config; joinagent retries with backoff', true);
  }
  if (missing.length) {
    const what = missing.map((m) => `${m.name} ${m.wanted ?? ''} (available: ${m.candidates.slice(-5).join(', ') || 'none'})`).join('; ');
    throw new StepError(`packages: not in the configured repositories: ${what}`, `check kubernetesVersion / containerd.version, the repositories.* settings, and that the repository is reachable (${ctx.facts.family === 'debian' ? 'apt-get update' : 'dnf makecache'})`);
  }
  return { pkgs: found.map((f) => ({ name: f.name, version: f.version! })), refreshedAll };
}

async function lookup(ctx: StepContext, pm: PackageManager, pkgs: WantedPackage[]) {
  const all = await pm.available(ctx, pkgs.map((p) => p.name));
  return pkgs.map((p) => {
    const candidates = all.get(p.name) ?? [];
    return { name: p.name, wanted: p.version, version: pickVersion(candidates, p.version), candidates };
  });
}

function familyOf(ctx: StepContext): DistroFamily {
  if (!ctx.facts.family) throw new StepError(`packages: ${ctx.facts.osName} (ID=${ctx.facts.osId}) is not a supported distribution`, 'joinagent supports RHEL-family (dnf) and Debian-family (apt) hosts; see /etc/os-release');
  return ctx.facts.family;
}

export async function osInfo(ctx: StepContext): Promise<{ id: string; codename?: string }> {
  const osr = parseOsRelease((await ctx.files.read(paths.osRelease)) ?? '');
  return { id: ctx.facts.osId, codename: osr.VERSION_CODENAME || osr.UBUNTU_CODENAME || undefined };
}
