import { StepError, type Change, type Step, type StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { clearJoinAttempt, interruptedByUs, readJoinAttempt, recordJoinAttempt } from '../../join/attempt.js';
import { shortPin } from '../../join/capin.js';
import { expectedPins } from './discovery.js';
import { joinPatchesDir, patchFileChanges, resolvFixOf, writePatchFiles } from './patches.js';
import { proxyEnv, proxyView } from '../../net/proxy.js';
import { classifyJoinFailure, phaseProgress, type JoinFailure } from '../../join/kubeadm-output.js';
import { kubeletFatal, kubeletHealthy, kubeletJournal, waitKubeletHealthy } from '../../join/kubelet.js';
import { inspectLocal, joinVerdict } from '../../join/local.js';
import { renderJoinConfig, TOKEN_PLACEHOLDER } from '../../join/render.js';
import { recheckToken } from '../../join/token-recheck.js';
import { expiredClientCert, REBOOTSTRAP, rebootstrapKubelet, rebootstrapRefusal } from '../../join/rebootstrap.js';
import type { PreflightPublished } from './preflight.js';

const RESET = 'kubeadm reset --force';
const RESTART_KUBELET = 'systemctl restart kubelet';
const JOIN = `kubeadm join --config ${paths.joinConfig}`;
const KUBELET_WAIT_MS = 60_000;
// A kubelet that started before containerd (at boot: the units are not ordered) exits at
// once ("validate service connection ... no such file or directory") and systemd starts
// it again after RestartSec=10s (upstream's kubelet.service): one restart interval and its
// start-up, before joinagent restarts it itself.
const KUBELET_SETTLE_MS = 20_000;

const RESUME = 'resuming an interrupted join';

// kubeadm join, done once: a node joined to this cluster with a healthy kubelet is `ok`
// without running kubeadm; leftovers of a half-finished join are reset when joinagent's
// own record shows it started that join and was interrupted, otherwise reported (or
// reset, with join.resetOnFailure); the token reaches kubeadm only through a 0600 file.
export const joinStep: Step = {
  id: 'join',
  title: 'Join the cluster (kubeadm join)',
  phase: 'join',
  after: ['discovery', 'node-ip'],
  async check(ctx) {
    const local = await inspectLocal(ctx.files);
    const v = joinVerdict(local, expectedPins(ctx));
    const attempt = await readJoinAttempt(ctx.files);
    const ours = interruptedByUs(local, attempt, expectedPins(ctx));
    const reset = ctx.config.agent.join.resetOnFailure || ours;
    if (v.state === 'joined') {
      // mid-upgrade the kubelet may be down on purpose: the upgrade step restarts it
      if (ctx.config.agent.upgrading) return { state: 'ok', message: `joined (upgrade ${ctx.config.agent.upgrading.from} -> ${ctx.config.agent.upgrading.to} under way)` };
      const expired = await expiredClientCert(ctx);
      if (expired) {
        if (!ctx.config.token) throw rebootstrapRefusal(ctx.config, expired);
        return { state: 'change', changes: [{ kind: 'action', description: `${REBOOTSTRAP}: its client certificate expired at ${expired} (new ${paths.bootstrapKubeletConf} with the bootstrap token, ${paths.kubeletConf} removed, kubelet restarted)` }] };
      }
      if ((await kubeletHealthy()) || (!ctx.dryRun && (await waitKubeletHealthy(KUBELET_SETTLE_MS, ctx.signal)))) {
        ctx.publish('joined', true);
        return { state: 'ok', message: `joined (kubelet healthy${v.pin ? `, cluster CA ${shortPin(v.pin)}` : ''})` };
      }
      return { state: 'change', message: 'joined, but the kubelet is not healthy', changes: [{ kind: 'action', description: `${RESTART_KUBELET} (kubelet.conf present, 127.0.0.1:10248/healthz not answering)` }] };
    }
    if (v.state === 'other-cluster' && !reset) {
      throw new StepError(`this node is joined to another cluster: ${paths.kubeCaCert} has CA ${v.pins.join(', ') || '(unreadable)'}, not the configured one`, `\`${RESET}\` to leave it (destroys this node's cluster state), then re-run; or set join.resetOnFailure: true`);
    }
    if (v.state === 'half' && !reset) {
      throw new StepError(`a half-finished earlier join left ${v.leftovers.join(', ')} but no ${paths.kubeletConf}`, `\`${RESET}\` then re-run joinagent (or set join.resetOnFailure: true to let joinagent do it)`);
    }
    const changes: Change[] = [];
    if (ours) changes.push({ kind: 'action', description: `${RESET} (${RESUME}: joinagent started kubeadm join at ${attempt!.startedAt} and was stopped before it finished)` });
    else if (v.state !== 'fresh') changes.push({ kind: 'action', description: `${RESET} (${v.state === 'half' ? 'half-finished earlier join' : 'joined to another cluster'}; join.resetOnFailure)` });
    changes.push(...(await patchFileChanges(ctx, resolvFixOf(ctx))));
    const before = await ctx.files.read(paths.joinConfig);
    const after = render(ctx, TOKEN_PLACEHOLDER);
    if (before !== after) changes.push({ kind: 'file', path: paths.joinConfig, before: before === null ? null : before.replace(/([tT]oken): .*/g, `$1: ${TOKEN_PLACEHOLDER}`), after });
    changes.push({ kind: 'action', description: `${JOIN}${ctx.dryRun ? ' (run --dry-run: kubeadm join --dry-run)' : ''}` });
    return { state: 'change', changes };
  },
  async apply(ctx, changes) {
    const acts = changes.filter((c) => c.kind === 'action').map((c) => (c as { description: string }).description);
    if (acts.some((a) => a.startsWith(RESTART_KUBELET))) return restartKubelet(ctx);
    if (acts.some((a) => a.startsWith(REBOOTSTRAP))) {
      await rebootstrapKubelet(ctx, nodeNameOf(ctx));
      return ctx.publish('joined', true);
    }
    const resume = acts.find((a) => a.startsWith(RESET) && a.includes(RESUME));
    if (resume) ctx.warn(`join: the previous kubeadm join was interrupted (${resume.slice(resume.indexOf(':') + 2, -1)}); removing its leftovers with ${RESET} and joining again`, 'nothing to do; if this repeats, look for what stops the agent during the join (OOM kills, reboots, systemd timeouts)');
    // the token may have expired while the host was prepared (a 24h TTL, a slow image)
    if (!ctx.dryRun) await recheckToken(ctx.config, nodeNameOf(ctx), (ctx.published.preflight as PreflightPublished | undefined)?.tokenAcceptedAt, ctx.signal);
    if (acts.some((a) => a.startsWith(RESET))) await reset(ctx);
    await writePatchFiles(ctx, changes);
    let r = await runJoin(ctx);
    if (r.failure?.resettable && ctx.config.agent.join.resetOnFailure) {
      ctx.progress(`kubeadm join failed (${r.failure.message}); ${RESET} and one more attempt (join.resetOnFailure)`);
      await reset(ctx);
      r = await runJoin(ctx);
    }
    if (r.failure) throw new StepError(r.failure.message, r.failure.hint);
    if (!(await waitKubeletHealthy(KUBELET_WAIT_MS, ctx.signal))) {
      throw await kubeletUnhealthy(ctx, 'kubeadm join succeeded, but the kubelet is not healthy on 127.0.0.1:10248/healthz', false);
    }
    ctx.publish('joined', true);
  },
};

function nodeNameOf(ctx: StepContext): string {
  return ctx.config.join.nodeName ?? ctx.facts.hostname.toLowerCase();
}

function render(ctx: StepContext, token: string | undefined): string {
  return renderJoinConfig(ctx.config.join, token, ctx.published.nodeIP as string | undefined, ctx.config.file, joinPatchesDir(ctx.config, resolvFixOf(ctx)));
}

// Renders with the token (0600, root-only directory), runs kubeadm, and always
// rewrites the file without the token afterwards when the join failed: the next
// attempt renders it again, so the secret is on disk only while kubeadm needs it.
async function runJoin(ctx: StepContext): Promise<{ failure?: JoinFailure }> {
  await ctx.files.mkdir(paths.stateDir, 0o700);
  await ctx.files.write(paths.joinConfig, render(ctx, ctx.config.token), { mode: 0o600, backup: false });
  await recordJoinAttempt(ctx.files, { startedAt: new Date().toISOString(), pid: process.pid, apiServer: ctx.config.join.apiServerEndpoint, pins: expectedPins(ctx) });
  const output: string[] = [];
  const proxy = proxyView(ctx.config, [], ctx.facts.hostname);
  const r = await ctx.proc.run('kubeadm', ['join', '--config', ctx.files.resolve(paths.joinConfig)], {
    // kubeadm reads the proxy from its environment: with the configured one (and the API
    // server in NO_PROXY) it talks to the API server directly whatever the agent inherited
    ...(proxy ? { env: proxyEnv(proxy) } : {}),
    allowFailure: true,
    timeoutMs: ctx.config.agent.join.timeout,
    onLine: (line) => {
      output.push(line);
      const p = phaseProgress(line);
      if (p) ctx.progress(p);
    },
  });
  // kubeadm has exited: whatever it left is now described by its exit code, not by us
  await clearJoinAttempt(ctx.files);
  if (r.exitCode === 0) return {};
  await ctx.files.write(paths.joinConfig, render(ctx, undefined), { mode: 0o600, backup: false });
  const text = `${r.stdout}\n${r.stderr}`.trim() || output.join('\n');
  const failure = r.notFound
    ? { kind: 'other' as const, message: 'kubeadm is not installed (kubeadm: command not found)', hint: 'the runtime steps install kubeadm; run `joinagent run` without skipping them', resettable: false }
    : classifyJoinFailure(text, r.exitCode, r.timedOut);
  if (failure.kind === 'kubelet') {
    const { fatal, tail } = await kubeletReason(ctx);
    // the kubelet's own reason belongs in the message, not only in the journal below it
    if (fatal) failure.message = `kubelet did not become healthy: ${fatal}`;
    failure.hint += `\nkubelet journal:\n${tail}`;
  }
  return { failure };
}

async function reset(ctx: StepContext): Promise<void> {
  ctx.progress(RESET);
  const r = await ctx.proc.run('kubeadm', ['reset', '--force'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  if (r.exitCode !== 0) throw new StepError(`${RESET} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`, 'clean up by hand: `kubeadm reset --force`, then remove /etc/kubernetes/kubelet.conf and /etc/kubernetes/pki');
}

async function restartKubelet(ctx: StepContext): Promise<void> {
  await ctx.proc.run('systemctl', ['restart', 'kubelet'], { allowFailure: true });
  if (!(await waitKubeletHealthy(KUBELET_WAIT_MS, ctx.signal))) {
    throw await kubeletUnhealthy(ctx, 'the node is joined, but the kubelet does not become healthy on 127.0.0.1:10248/healthz', true);
  }
  ctx.publish('joined', true);
}

// A kubelet that does not answer /healthz: its own reason (kubeletFatal) in the message,
// the journal in the hint.
async function kubeletUnhealthy(ctx: StepContext, what: string, retryable: boolean): Promise<StepError> {
  const { fatal, tail } = await kubeletReason(ctx);
  return new StepError(fatal ? `${what}: ${fatal}` : what, `kubelet journal:\n${tail}`, retryable);
}

// The reason is looked for further back than the 20 lines shown: systemd's restart lines
// (4 per crash-loop turn) push it out of a short tail.
async function kubeletReason(ctx: StepContext): Promise<{ fatal?: string; tail: string }> {
  const journal = await kubeletJournal(ctx.proc, 80);
  return { fatal: kubeletFatal(journal), tail: journal.split('\n').slice(-20).join('\n') };
}
