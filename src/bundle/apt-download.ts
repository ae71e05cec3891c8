import path from 'node:path';
import { StepError, type StepContext } from '../engine/step.js';
import { describeFailure } from '../host/proc.js';
import { writeDownloadedKeys, keyChange } from '../steps/host/packages/keys.js';
import { repositoryPlan, type OsInfo } from '../steps/host/packages/repos.js';
import { pickVersion, wantedPackages } from '../steps/host/packages/wanted.js';
import { parseMadison } from '../steps/host/packages/apt.js';

// Downloads the packages a node needs, with their dependencies, using this machine's apt
// with a private configuration (its own sources list, lists, cache and keyrings under
// `work`): nothing of this machine's apt setup is read or changed except its dpkg status,
// against which dependencies are resolved. So the machine should run the nodes' release:
// what it already has installed (libc6, iproute2 ...) is taken to be on the nodes too.
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
  await ctx.files.write(list, sources, { backup: false });
  const debs = path.posix.join(work, 'debs');
  for (const d of ['lists/partial', 'cache', 'debs/partial']) await ctx.files.mkdir(path.posix.join(work, d));
  const apt = (hostSources: boolean): string[] => [
    '-o', `Dir::Etc::sourcelist=${ctx.files.resolve(list)}`,
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
  for (const hostSources of ctx.config.agent.containerd.source === 'distro' ? [false, true] : [false]) {
    ctx.progress(`apt-get update (${hostSources ? 'the configured repositories and this machine\'s sources' : 'the configured repositories'})`);
    const u = await ctx.proc.run('apt-get', ['update', '-q', ...apt(hostSources)], { env, allowFailure: true, timeoutMs: 10 * 60_000 });
    if (u.exitCode !== 0) throw new StepError(`bundle: apt-get update: ${describeFailure(u)}`, 'check repositories.* in the config and the network (or proxy) of this machine');
    const madison = await ctx.proc.probe('apt-cache', ['madison', ...apt(hostSources), ...wanted.map((w) => w.name)], { allowFailure: true });
    const pins = wanted.map((w) => ({ name: w.name, version: pickVersion(parseMadison(madison.stdout, w.name), w.version) }));
    const missing = pins.filter((p) => !p.version);
    if (missing.length && !hostSources && ctx.config.agent.containerd.source === 'distro') continue;
    if (missing.length) throw new StepError(`bundle: not in the configured repositories: ${missing.map((m) => `${m.name} ${wanted.find((w) => w.name === m.name)?.version ?? ''}`).join(', ')}`, 'check kubernetesVersion, containerd.version and repositories.* in the config');
    ctx.progress(`apt-get install --download-only ${pins.map((p) => p.name).join(' ')}`);
    // --reinstall: packages this machine already has at that version are downloaded too;
    // nothing is installed here, so another version on this machine does not matter
    const r = await ctx.proc.run('apt-get', ['install', '-y', '-q', '--download-only', '--reinstall', '--allow-downgrades', '--allow-change-held-packages', '--no-install-recommends', ...apt(hostSources), ...pins.map((p) => `${p.name}=${p.version}`)], { env, allowFailure: true, timeoutMs: 15 * 60_000 });
    if (r.exitCode !== 0) throw new StepError(`bundle: downloading the packages: ${describeFailure(r)}`, 'the dependencies are resolved against this machine\'s installed packages: run joinagent bundle on a machine of the nodes\' distribution release');
    return (await ctx.files.list(debs)).filter((f) => f.endsWith('.deb')).map((f) => path.posix.join(debs, f));
  }
  throw new StepError('bundle: no package source found', 'check repositories.* in the config');
}
