import path from 'node:path';
import { StepError, type StepContext } from '../engine/step.js';
import { describeFailure } from '../host/proc.js';
import { writeDownloadedKeys, keyChange } from '../steps/host/packages/keys.js';
import { repositoryPlan, type OsInfo } from '../steps/host/packages/repos.js';
import { pickVersion, wantedPackages } from '../steps/host/packages/wanted.js';
import { parseMadison } from '../steps/host/packages/apt.js';
import { unresolved } from '../steps/host/packages/unresolved.js';
import { baseStatus } from './base-status.js';

// Downloads the packages a node needs, with their dependencies, using this machine's apt
// with a private configuration (its own sources list, lists, cache, keyrings and dpkg
// status under `work`): nothing of this machine's apt setup is changed. Dependencies are
// resolved against what every node of the release has (base-status.ts: the required and
// Essential packages of this machine's status), so the machine should run the nodes'
// release; whatever else kubelet or containerd needs (iptables, kubernetes-cni ...) goes
// into the bundle. The configured repositories are tried alone first; what they lack
// (the distribution's iptables, containerd.source: distro) comes from this machine's
// own sources.
export async function downloadDebs(ctx: StepContext, work: string, os: OsInfo): Promise<string[]> {
  const plan = repositoryPlan(ctx.config, { family: 'debian', arch: ctx.facts.arch }, os);
  const keyDir = path.posix.join(work, 'keys');
  const keys = plan.keys.map((k) => ({ ...k, path: path.posix.join(keyDir, path.posix.basename(k.path)) }));
  const changes = [];
  for (const k of keys) {
    const c = await keyChange(ctx, k);
    if (c) changes.push(c);
  }
  for (const c of changes) if (c.kind === 'file' && c.after !== null) await ctx.files.write(c.path, c.after, { backup: false });
  await writeDownloadedKeys(ctx, changes, keys);
  let sources = plan.files.map((f) => f.content).join('');
  for (const k of plan.keys) sources = sources.replaceAll(`signed-by=${k.path}`, `signed-by=${path.posix.join(keyDir, path.posix.basename(k.path))}`);
  const list = path.posix.join(work, 'sources.list');
  const status = path.posix.join(work, 'status');
  await ctx.files.write(status, baseStatus((await ctx.files.read('/var/lib/dpkg/status')) ?? ''), { backup: false });
  const debs = path.posix.join(work, 'debs');
  for (const d of ['lists/partial', 'cache', 'debs/partial']) await ctx.files.mkdir(path.posix.join(work, d));
  const apt = (hostSources: boolean): string[] => [
    '-o', `Dir::Etc::sourcelist=${ctx.files.resolve(list)}`,
    '-o', `Dir::State::status=${ctx.files.resolve(status)}`,
    // the distribution's own packages (containerd.source: distro) come from this machine's sources
    '-o', `Dir::Etc::sourceparts=${hostSources ? '/etc/apt/sources.list.d' : '-'}`,
    '-o', `Dir::State::Lists=${ctx.files.resolve(path.posix.join(work, 'lists'))}`,
    '-o', `Dir::Cache=${ctx.files.resolve(path.posix.join(work, 'cache'))}`,
    '-o', 'Dir::Cache::pkgcache=', '-o', 'Dir::Cache::srcpkgcache=',
    '-o', `Dir::Cache::archives=${ctx.files.resolve(debs)}`,
    '-o', 'APT::Get::List-Cleanup=0', '-o', 'Acquire::Languages=none',
  ];
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const wanted = wantedPackages(ctx.config, { family: 'debian' });
  for (const hostSources of [false, true]) {
    // this machine's one-line sources.list joins the configured ones (its sources.list.d is read as it is)
    await ctx.files.write(list, sources + (hostSources ? ((await ctx.files.read('/etc/apt/sources.list')) ?? '') : ''), { backup: false });
    ctx.progress(`apt-get update (${hostSources ? 'the configured repositories and this machine\'s sources' : 'the configured repositories'})`);
    const up = await ctx.proc.run('apt-get', ['update', '-q', ...apt(hostSources)], { env, allowFailure: true, timeoutMs: 10 * 60_000 });
    if (up.exitCode !== 0) throw new StepError(`bundle: apt-get update: ${describeFailure(up)}`, 'check repositories.* in the config and the network (or proxy) of this machine');
    const madison = await ctx.proc.probe('apt-cache', ['madison', ...apt(hostSources), ...wanted.map((w) => w.name)], { allowFailure: true });
    const pins = wanted.map((w) => ({ name: w.name, version: pickVersion(parseMadison(madison.stdout, w.name), w.version) }));
    const missing = pins.filter((p) => !p.version);
    if (missing.length && !hostSources && ctx.config.agent.containerd.source === 'distro') continue;
    if (missing.length) throw new StepError(`bundle: not in the configured repositories: ${missing.map((m) => `${m.name} ${wanted.find((w) => w.name === m.name)?.version ?? ''}`).join(', ')}`, 'check kubernetesVersion, containerd.version and repositories.* in the config');
    ctx.progress(`apt-get install --download-only ${pins.map((p) => p.name).join(' ')}`);
    // --reinstall: packages this machine already has at that version are downloaded too;
    // nothing is installed here, so another version on this machine does not matter
    const r = await ctx.proc.run('apt-get', ['install', '-y', '-q', '--download-only', '--reinstall', '--allow-downgrades', '--allow-change-held-packages', '--no-install-recommends', ...apt(hostSources), ...pins.map((p) => `${p.name}=${p.version}`)], { env, allowFailure: true, timeoutMs: 15 * 60_000 });
    const u = r.exitCode !== 0 ? unresolved(`${r.stdout}\n${r.stderr}`) : undefined;
    // a dependency the configured repositories lack (iptables is the distribution's): this machine's sources have it
    if (u && !hostSources) continue;
    if (u) throw new StepError(`bundle: downloading the packages: unmet dependencies in the configured repositories and this machine's sources:\n${u.reason.join('\n')}`, `make ${u.missing.join(', ') || 'the dependency'} available to this machine's apt (its sources must be the nodes' distribution release) or in repositories.*`);
    if (r.exitCode !== 0) throw new StepError(`bundle: downloading the packages: ${describeFailure(r)}`, 'the dependencies are resolved against the base packages of this machine\'s release: run joinagent bundle on a machine of the nodes\' distribution release');
    return (await ctx.files.list(debs)).filter((f) => f.endsWith('.deb')).map((f) => path.posix.join(debs, f));
  }
  throw new StepError('bundle: no package source found', 'check repositories.* in the config');
}
