import path from 'node:path';
import { StepError, type Step, type StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { effectiveCriConfig, effectiveDifferences } from '../../runtime/effective.js';
import { warnOnce } from '../host/file-change.js';
import { criWanted, planContainerd, type ContainerdPlan } from './containerd-plan.js';
import { waitForCriReady, withCri } from './cri.js';

export interface RuntimeStepOptions {
  after: string[];
  /** How long a (re)started containerd may take to answer CRI ready. */
  readyTimeoutMs: number;
}

// containerd's config.toml and registry host files made right structurally; containerd
// is restarted only when its config changed (or it runs with an older one), and the step
// ends only once CRI reports the settings in effect.
export function containerdConfigStep(opts: RuntimeStepOptions): Step {
  return {
    id: 'containerd-config',
    title: 'containerd config (CRI on, SystemdCgroup, pause image, registry mirrors and credentials)',
    phase: 'runtime',
    after: opts.after,
    async check(ctx) {
      publishRegistries(ctx);
      const plan = await planContainerd(ctx);
      const pull = describePull(plan);
      if (plan.runtime) ctx.publish('containerd', { version: `${plan.runtime.major}.${plan.runtime.minor}`, pullPath: plan.pull?.mode, pullPathReason: plan.pull?.reason });
      // steps after this one that look at the running containerd (cgroup-driver) judge, in
      // a plan, the containerd this step's restart would leave
      ctx.publish('containerdRestartPending', plan.restart);
      if (plan.changes.length === 0) return { state: 'ok', message: pull };
      return { state: 'change', changes: plan.changes, message: [...plan.notes, ...(pull ? [pull] : [])].join('; ') || undefined };
    },
    async apply(ctx) {
      const plan = await planContainerd(ctx);
      for (const h of plan.hosts) {
        if (h.content === null) await ctx.files.remove(h.path);
        else await writeOrExplain(ctx, h.path, h.content);
      }
      if (plan.configText !== undefined) {
        await writeOrExplain(ctx, paths.containerdConfig, plan.configText, plan.configMode);
        const back = await ctx.files.read(paths.containerdConfig);
        if (back !== plan.configText) {
          throw new StepError(`${paths.containerdConfig} was changed back right after joinagent wrote it`, 'another tool manages this file (config management, a package hook): make it set disabled_plugins without "cri", SystemdCgroup = true and the sandbox image, or let joinagent own the file');
        }
      }
      if (plan.restart) await restartAndConfirm(ctx, opts.readyTimeoutMs);
    },
  };
}

// "containerd 2.1: CRI pulls through the transfer service" (or the local pull, and why):
// the two read different settings, so the operator is told which one applies.
function describePull(plan: ContainerdPlan): string | undefined {
  if (!plan.runtime || !plan.pull) return undefined;
  const v = `containerd ${plan.runtime.major}.${plan.runtime.minor}`;
  return plan.pull.mode === 'transfer' ? `${v}: CRI pulls through the transfer service (registry hosts from ${paths.containerdCertsDir})` : `${v}: CRI pulls with the local pull: ${plan.pull.reason}`;
}

// registries.<host> as /status shows them (paths and kinds, never a credential), and the
// skip_verify warning where the operator looks.
function publishRegistries(ctx: StepContext): void {
  const regs = ctx.config.agent.registries;
  if (!Object.keys(regs).length) return;
  ctx.publish('registries', Object.fromEntries(Object.entries(regs).map(([h, r]) => [h, { ca: r.ca, clientCert: r.clientCert, auth: r.token ? 'token' : r.username ? `user ${r.username}` : 'none', skipVerify: r.skipVerify }])));
  for (const [h, r] of Object.entries(regs)) {
    if (r.skipVerify) warnOnce(ctx, `registries.${h}.skipVerify: containerd does not verify the TLS certificate of ${h}`, `give the registry's CA with registries."${h}".ca and drop skipVerify`);
  }
}

// A write refused by the filesystem means the file is protected on purpose (chattr +i,
// read-only bind mount): say so instead of surfacing a bare EPERM.
async function writeOrExplain(ctx: StepContext, file: string, content: string, mode?: number): Promise<void> {
  try {
    await ctx.files.mkdir(path.posix.dirname(file));
    await ctx.files.write(file, content, mode === undefined ? {} : { mode });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EACCES' || code === 'EROFS') {
      throw new StepError(
        `cannot write ${file} (${code}): the file is protected and managed outside joinagent`,
        `check \`lsattr ${file}\` (immutable flag) and read-only mounts; either let joinagent manage it or make the managing tool enable CRI, SystemdCgroup = true and the sandbox image`,
        false,
        { cause: e },
      );
    }
    throw e;
  }
}

async function restartAndConfirm(ctx: StepContext, readyTimeoutMs: number): Promise<void> {
  ctx.progress('restarting containerd');
  await ctx.proc.run('systemctl', ['restart', 'containerd'], { timeoutMs: 120_000 });
  const wanted = criWanted(ctx);
  await withCri(ctx, async (client, ep) => {
    ctx.progress('waiting for the CRI to answer ready');
    const st = await waitForCriReady(ctx, client, ep, readyTimeoutMs);
    const eff = effectiveCriConfig(st.info);
    const diffs = eff ? effectiveDifferences(eff, wanted) : [];
    if (diffs.length) {
      throw new StepError(
        `containerd restarted but does not use ${paths.containerdConfig}: ${diffs.map((d) => `${d.name} is ${d.live}, wanted ${d.wanted}`).join('; ')}`,
        'containerd may be started with another --config (see `systemctl cat containerd`), or an imports= file overrides these settings',
      );
    }
  });
}
