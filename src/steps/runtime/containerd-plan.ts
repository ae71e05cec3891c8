import { DEFAULT_CGROUP_DRIVER } from '../../config/kubelet.js';
import type { Change, StepContext } from '../../engine/step.js';
import { StepError } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { ensureCriConfig, mergeOverDefault, needsDefaultConfig, tlsConflicts, type CriWanted, type RuntimeVersion } from '../../runtime/containerd-settings.js';
import { effectiveCriConfig, effectiveDifferences } from '../../runtime/effective.js';
import { UnknownKubernetesMinor, workerImages } from '../../runtime/images.js';
import { ensureRegistryAuth, maskRegistrySecrets, registryAuths } from '../../runtime/registry-auth.js';
import { desiredHostsFiles, ipv6LiteralMirrors, MANAGED_MARKER } from '../../runtime/registry-hosts.js';
import { parseContainerdVersion, pullPath, type PullPath } from '../../runtime/pull-path.js';
import { parseToml, renderPreserving, sameToml, TomlSyntaxError, type TomlTable } from '../../runtime/toml.js';
import { containerdVersionOutput } from './containerd-version.js';
import { liveStatus } from './cri.js';

// What the containerd-config step would change, computed read-only: the config file, the
// hosts.toml files, and whether containerd must be restarted to pick the config up.
export interface ContainerdPlan {
  changes: Change[];
  /** New config.toml content, when it changes. */
  configText?: string;
  /** config.toml's mode: 0600 once it holds registry credentials. */
  configMode?: number;
  hosts: { path: string; content: string | null }[];
  restart: boolean;
  notes: string[];
  /** containerd's version and CRI pull path with the planned config (unknown before install). */
  runtime?: RuntimeVersion;
  pull?: PullPath;
}

export const CONFIG_HEADER = '# containerd configuration, kept by joinagent (CRI on, SystemdCgroup, sandbox image, registry hosts).\n# Settings of your own are preserved; the previous file is under /var/lib/joinagent/backup.\n\n';

export function criWanted(ctx: StepContext): CriWanted {
  try {
    return { sandboxImage: workerImages(ctx.config.agent).pause, certsDir: paths.containerdCertsDir, systemdCgroup: (ctx.config.agent.kubelet.cgroupDriver ?? DEFAULT_CGROUP_DRIVER) === 'systemd' };
  } catch (e) {
    if (e instanceof UnknownKubernetesMinor) throw new StepError(e.message, 'use a supported kubernetesVersion, or add the minor to PAUSE_VERSIONS after checking kubeadm\'s PauseVersion');
    throw e;
  }
}

export async function planContainerd(ctx: StepContext): Promise<ContainerdPlan> {
  const wanted = criWanted(ctx);
  const file = paths.containerdConfig;
  const before = await ctx.files.read(file);
  let current: TomlTable | null = null;
  if (before !== null && before.trim() !== '') {
    try {
      current = parseToml(before, file);
    } catch (e) {
      if (e instanceof TomlSyntaxError) throw new StepError(e.message, `fix the file, or move it away so joinagent generates one from \`containerd config default\``);
      throw e;
    }
  }
  const notes: string[] = [];
  const runtime = await containerdVersion(ctx);
  let base = current;
  let baseText = before ?? '';
  let regenerated = false;
  if (needsDefaultConfig(current)) {
    const defaults = await containerdDefaults(ctx);
    if (defaults === null) {
      // plan on a host where containerd is not installed yet: say what will happen
      return { changes: [{ kind: 'action', description: `generate ${file} from \`containerd config default\` once containerd is installed` }], hosts: [], restart: true, notes };
    }
    const merged = mergeOverDefault(defaults.doc, current);
    notes.push(...merged.notes);
    base = merged.doc;
    // a regenerated file is containerd's own default text with the settings laid on it
    if (merged.regenerated) [baseText, regenerated] = [defaults.text, true];
  }
  const ensured = ensureCriConfig(base!, wanted, runtime);
  const auths = registryAuths(ctx.config.agent.registries);
  ensured.changes.push(...ensureRegistryAuth(ensured.doc, auths));
  const conflicts = tlsConflicts(ensured.doc);
  if (conflicts.length) {
    throw new StepError(
      `${file}: registry.configs.<host>.tls is set for ${conflicts.join(', ')}; containerd refuses it together with config_path = "${wanted.certsDir}"`,
      `move the TLS settings into ${wanted.certsDir}/<host>/hosts.toml (ca = ..., client = ..., skip_verify = ...) and remove them from config.toml`,
    );
  }
  const changes: Change[] = [];
  const pull = runtime ? pullPath(ensured.doc, runtime) : undefined;
  const plan: ContainerdPlan = { changes, hosts: [], restart: false, notes: [...notes, ...ensured.changes], runtime, pull };
  const secret = Object.keys(auths).length > 0;
  if (secret) plan.configMode = 0o600;
  if (current === null || regenerated || !sameToml(current, ensured.doc)) {
    // an edit of the file as it is: comments, quoting and order kept, only the settings change
    const r = renderPreserving(baseText, ensured.doc);
    if (!r.preserved) plan.notes.push(`${file} rewritten whole: its layout could not be kept for this change`);
    plan.configText = regenerated ? CONFIG_HEADER + r.text : r.text;
    plan.restart = true;
    // the diff others see never holds the registry credentials (apply writes configText)
    changes.push({ kind: 'file', path: file, before: before && maskRegistrySecrets(before), after: maskRegistrySecrets(plan.configText) });
  } else if (secret && (await ctx.files.stat(file))?.mode !== 0o600) {
    plan.configText = before!;
    changes.push({ kind: 'value', name: `mode of ${file} (holds registry credentials)`, live: ((await ctx.files.stat(file))?.mode ?? 0).toString(8), wanted: '600' });
  }

  refuseIpv6MirrorsOnContainerd1(ctx, runtime);
  const hosts = desiredHostsFiles(wanted.certsDir, ctx.config.agent.containerd.registryMirrors, ensured.legacyMirrors, ctx.config.agent.registries);
  for (const [p, { content, moved }] of hosts) {
    const existing = await ctx.files.read(p);
    if (moved && existing !== null) {
      plan.notes.push(`${p} exists: kept it, the registry.mirrors entry from config.toml is dropped`);
      continue;
    }
    if (existing !== content) {
      plan.hosts.push({ path: p, content });
      changes.push({ kind: 'file', path: p, before: existing, after: content });
    }
  }
  for (const dir of await ctx.files.list(wanted.certsDir)) {
    const p = `${wanted.certsDir}/${dir}/hosts.toml`;
    if (hosts.has(p)) continue;
    const existing = await ctx.files.read(p);
    if (existing?.startsWith(MANAGED_MARKER)) {
      plan.hosts.push({ path: p, content: null });
      changes.push({ kind: 'file', path: p, before: existing, after: null });
    }
  }

  if (!plan.restart) await liveDifferences(ctx, wanted, plan);
  return plan;
}

// reset --all: once the original config.toml is back, containerd must load it
const RESTART = ['systemctl', 'restart', 'containerd'];

// The file can be right while the running containerd still uses an older one (a restart
// that never happened, a crash between write and restart): compare with CRI's view.
async function liveDifferences(ctx: StepContext, wanted: CriWanted, plan: ContainerdPlan): Promise<void> {
  const live = await liveStatus(ctx);
  if (live === null) return; // not running: containerd-running starts it with this file
  if (live.unimplemented) {
    plan.restart = true;
    plan.changes.push({ kind: 'action', description: 'restart containerd: it runs with the CRI plugin disabled although the file enables it', undo: [RESTART] });
    return;
  }
  const eff = live.status ? effectiveCriConfig(live.status.info) : null;
  const diffs = eff ? effectiveDifferences(eff, wanted) : [];
  if (diffs.length) {
    plan.restart = true;
    plan.changes.push(...diffs.map((d) => ({ kind: 'value' as const, ...d, undo: [] })), { kind: 'action', description: 'restart containerd to load its configuration', undo: [RESTART] });
  }
}

// `containerd --version`: which containerd reads the file decides where some settings
// belong (see pull-path.ts); undefined before it is installed.
async function containerdVersion(ctx: StepContext): Promise<RuntimeVersion | undefined> {
  const r = await containerdVersionOutput(ctx);
  return r.exitCode === 0 ? parseContainerdVersion(r.stdout) : undefined;
}

// See ipv6LiteralMirrors: on containerd 1.x such a mirror would be silently ignored.
function refuseIpv6MirrorsOnContainerd1(ctx: StepContext, runtime: RuntimeVersion | undefined): void {
  const literal = ipv6LiteralMirrors(ctx.config.agent.containerd.registryMirrors);
  if (!literal.length || runtime === undefined || runtime.major >= 2) return;
  throw new StepError(
    `containerd ${runtime.major}.${runtime.minor} cannot use the registry mirror ${literal[0]}: containerd 1.x does not load a hosts.toml whose [host."..."] key holds an IPv6 address (its TOML parser stops at ']'; containerd issue #10055), and would pull from the registry itself`,
    'give the mirror a name: add it to host.hosts (e.g. - { ip: <the IPv6 address>, names: [registry-mirror] }) and write the mirror as http://registry-mirror:PORT; or use containerd 2.x',
  );
}

// `containerd config default` is a read-only query; null when containerd is not installed.
async function containerdDefaults(ctx: StepContext): Promise<{ doc: TomlTable; text: string } | null> {
  const r = await ctx.proc.probe('containerd', ['config', 'default'], { allowFailure: true, timeoutMs: 30_000 });
  if (r.notFound) {
    if (ctx.dryRun) return null;
    throw new StepError('containerd is not installed: `containerd config default` was not found', 'install containerd (the packages step does, from containerd.source) and run again');
  }
  if (r.exitCode !== 0) throw new StepError(`\`containerd config default\` failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop() ?? ''}`, 'run it by hand to see why');
  return { doc: parseToml(r.stdout, 'containerd config default'), text: r.stdout };
}
