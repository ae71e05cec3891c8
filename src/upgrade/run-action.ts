import type { LoadedConfig } from '../config/types.js';
import { sleep } from '../engine/retry.js';
import { StepError, type StepContext } from '../engine/step.js';
import { paths } from '../host/paths.js';
import { describeFailure } from '../host/proc.js';
import { kubeletJournal, waitKubeletHealthy } from '../join/kubelet.js';
import { proxyEnv, proxyView } from '../net/proxy.js';
import { CriError } from '../runtime/cri/errors.js';
import { registryHost } from '../runtime/images.js';
import { explainPullFailure } from '../runtime/pull-errors.js';
import { mirrorsFor } from '../runtime/registry-hosts.js';
import { keyChange, writeDownloadedKeys } from '../steps/host/packages/keys.js';
import { repositoryPlan } from '../steps/host/packages/repos.js';
import { osInfo, packageManager, resolveVersions, type Refresh } from '../steps/host/packages/step.js';
import { withCri } from '../steps/runtime/cri.js';
import { joinPatchesDir, ownResolvPatch } from '../steps/join/patches.js';
import type { ActionId, UpgradePlanInput } from './actions.js';
import { nodeKubelet } from './cluster.js';
import { minorOf } from './skew.js';

const KUBEADM_TMP = '/etc/kubernetes/tmp';

export interface ActionEnv {
  ctx: StepContext;
  /** the config as it will be once upgraded (kubernetesVersion = to) */
  target: LoadedConfig;
  plan: UpgradePlanInput;
}

// One upgrade action; each may run again after a crash (see actions.ts).
export async function runAction(id: ActionId, env: ActionEnv): Promise<void> {
  switch (id) {
    case 'repository':
      return switchRepository(env);
    case 'images':
      return prePull(env);
    case 'kubeadm':
      return installHeld(env, ['kubeadm']);
    case 'kubeadm-upgrade-node':
      return kubeadmUpgradeNode(env);
    case 'drain':
      return kubectl(env, ['drain', env.plan.nodeName, '--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${Math.round(env.plan.drain!.timeoutMs / 1000)}s`], env.plan.drain!.timeoutMs + 60_000);
    case 'kubelet':
      return installHeld(env, minorOf(env.plan.from) === minorOf(env.plan.to) ? ['kubelet', 'kubectl'] : ['kubelet', 'kubectl', 'cri-tools']);
    case 'restart-kubelet':
      return restartKubelet(env);
    case 'verify':
      return verifyNode(env);
    case 'uncordon':
      return kubectl(env, ['uncordon', env.plan.nodeName], 120_000);
  }
}

// The new minor's repository file (and key, when it is a URL not yet on the host), then
// apt re-reads that one file; dnf fetches a changed repository's metadata by itself.
async function switchRepository({ ctx, target }: ActionEnv): Promise<void> {
  const plan = repositoryPlan(target, ctx.facts, await osInfo(ctx));
  const file = plan.files.find((f) => /\/kubernetes\.(list|repo)$/.test(f.path));
  const key = plan.keys.find((k) => /\/kubernetes\.asc$/.test(k.path));
  if (key) {
    const c = await keyChange(ctx, key);
    if (c?.kind === 'file' && c.after !== null) await ctx.files.write(c.path, c.after, { mode: 0o644 });
    else if (c) await writeDownloadedKeys(ctx, [c], [key]);
  }
  if (!file) return;
  await ctx.files.write(file.path, file.content, { mode: 0o644 });
  const pm = packageManager(ctx.facts.family!);
  if (pm.refreshAfterRepoChange) await pm.refresh(ctx, [file.path]);
}

// kube-proxy of the new version and the new minor's pause tag, through the CRI, before
// anything stops: a slow or failing registry then fails the upgrade with the node untouched.
async function prePull({ ctx, plan }: ActionEnv): Promise<void> {
  const refs = [plan.images.kubeProxy, plan.images.pause];
  await withCri(ctx, async (client) => {
    for (const ref of refs) {
      if (await client.imageStatus(ref)) continue;
      ctx.progress(`pulling ${ref}`);
      try {
        await client.pullImage(ref, 15 * 60_000, ctx.signal);
      } catch (e) {
        if (!(e instanceof CriError)) throw new StepError(`pulling ${ref}: ${(e as Error).message}`, undefined, true, { cause: e });
        const host = registryHost(ref);
        const f = explainPullFailure(ref, host, mirrorsFor(host, ctx.config.agent.containerd.registryMirrors), e.details);
        throw new StepError(f.message, f.hint, f.retryable, { cause: e });
      }
    }
  });
}

// Exact versions of the new release, then held again (apt-mark hold / versionlock): the
// hold is what keeps a plain `apt upgrade` from moving them later. Only the kube
// repository is re-read when the version is not in the cached lists.
async function installHeld({ ctx, target, plan }: ActionEnv, names: string[]): Promise<void> {
  const pm = packageManager(ctx.facts.family!);
  const v = plan.to.replace(/^v/, '');
  const wanted = names.map((name) => ({ name, version: name === 'cri-tools' ? `${minorOf(v)}.*` : v, hold: true, repo: 'kubernetes' as const }));
  const installed = await pm.installed(ctx, names);
  const missing = wanted.filter((w) => !(installed.get(w.name)?.version ?? '').replace(/^\d+:/, '').startsWith(w.version.replace(/\*$/, '')));
  if (missing.length) {
    const list = repositoryPlan(target, ctx.facts, await osInfo(ctx)).files.find((f) => /\/kubernetes\.list$/.test(f.path));
    const refresh: Refresh = pm.refreshAfterRepoChange && list ? [list.path] : null;
    await pm.install(ctx, (await resolveVersions(ctx, pm, missing, refresh)).pkgs);
  }
  const after = await pm.installed(ctx, names);
  const unheld = names.filter((n) => !after.get(n)?.held);
  if (unheld.length) await pm.hold(ctx, unheld);
}

// `kubeadm upgrade node`: on a worker it reads kubeadm-config and kubelet-config from the
// cluster (with kubelet.conf), backs up and rewrites /var/lib/kubelet/config.yaml. The
// patches directory the join used is passed again so the kubelet: settings survive.
async function kubeadmUpgradeNode({ ctx, target }: ActionEnv): Promise<void> {
  await restoreKubeletConfig(ctx);
  const patches = joinPatchesDir(target, await ownResolvPatch(ctx.files));
  const args = ['upgrade', 'node', ...(patches ? ['--patches', ctx.files.resolve(patches)] : [])];
  const proxy = proxyView(ctx.config, [], ctx.facts.hostname);
  const r = await ctx.proc.run('kubeadm', args, {
    ...(proxy ? { env: proxyEnv(proxy) } : {}),
    allowFailure: true,
    timeoutMs: 10 * 60_000,
    onLine: (line) => {
      if (/^\[(upgrade|kubelet-start|patches)/.test(line)) ctx.progress(line.slice(0, 160));
    },
  });
  if (r.exitCode === 0) return;
  const said = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('To see the stack trace'));
  const reason = said.find((l) => l.startsWith('error execution phase') || /^(unable|couldn't|failed)/i.test(l)) ?? said.pop() ?? describeFailure(r);
  throw new StepError(`kubeadm upgrade node failed: ${reason}`, 'the kubelet still runs the old version with its old config (kubeadm keeps a copy under /etc/kubernetes/tmp); fix the cause, the next run runs kubeadm upgrade node again', /timed out|connection refused|429|503/i.test(reason));
}

// kubeadm moves config.yaml to /etc/kubernetes/tmp before it writes the new one: killed in
// between, the file is missing and a second `kubeadm upgrade node` fails on the rename.
// The newest backup is put back first, so the action can always run again.
async function restoreKubeletConfig(ctx: StepContext): Promise<void> {
  if (await ctx.files.exists(paths.kubeletConfig)) return;
  const dirs = (await ctx.files.list(KUBEADM_TMP)).filter((d) => d.startsWith('kubeadm-kubelet-config-')).sort();
  for (const d of dirs.reverse()) {
    const text = await ctx.files.read(`${KUBEADM_TMP}/${d}/config.yaml`);
    if (text === null) continue;
    ctx.warn(`upgrade: ${paths.kubeletConfig} is missing (an earlier kubeadm upgrade node was stopped midway); restoring kubeadm's backup ${KUBEADM_TMP}/${d}/config.yaml`, 'nothing to do: kubeadm upgrade node runs again');
    await ctx.files.write(paths.kubeletConfig, text, { mode: 0o644, backup: false });
    return;
  }
}

async function restartKubelet({ ctx }: ActionEnv): Promise<void> {
  // the kubelet package may have changed its unit or drop-in
  await ctx.proc.run('systemctl', ['daemon-reload'], { allowFailure: true });
  const r = await ctx.proc.run('systemctl', ['restart', 'kubelet'], { allowFailure: true });
  if (r.exitCode !== 0) throw new StepError(`systemctl restart kubelet: ${describeFailure(r)}`, `kubelet journal:\n${await kubeletJournal(ctx.proc)}`, true);
  if (!(await waitKubeletHealthy(90_000, ctx.signal))) throw new StepError('the upgraded kubelet does not become healthy on 127.0.0.1:10248/healthz', `kubelet journal:\n${await kubeletJournal(ctx.proc)}`, true);
}

// The proof, as after a join: the Node (read with the kubelet's own credentials) reports
// the new kubelet version and Ready, within upgrade.waitForReady.
async function verifyNode({ ctx, target, plan }: ActionEnv): Promise<void> {
  const deadline = Date.now() + target.agent.upgrade.waitForReady;
  let last: string;
  for (;;) {
    try {
      const n = await nodeKubelet(ctx.files, plan.nodeName, ctx.signal);
      if (n.found && n.kubeletVersion === plan.to && n.ready) return;
      last = !n.found ? (n.reason ?? 'not found') : `reports kubelet ${n.kubeletVersion ?? '(none)'}${n.ready ? ', Ready' : `, not Ready (${n.reason})`}`;
    } catch (e) {
      last = (e as Error).message;
    }
    ctx.progress(`waiting for Node "${plan.nodeName}" to report kubelet ${plan.to} and Ready: ${last}`);
    if (Date.now() >= deadline || ctx.signal.aborted) break;
    await sleep(2000, ctx.signal);
  }
  throw new StepError(`Node "${plan.nodeName}" ${last} (wanted kubelet ${plan.to} and Ready, waited ${Math.round(target.agent.upgrade.waitForReady / 1000)}s)`, `on the control plane: \`kubectl get node ${plan.nodeName} -o wide\`; on this node: \`journalctl -u kubelet\`; the next run checks again`, true);
}

// cordon+drain / uncordon with the kubeconfig the operator gave for it; the kubelet's own
// credentials may not evict pods (the node authorizer forbids it).
async function kubectl({ ctx, plan }: ActionEnv, args: string[], timeoutMs: number): Promise<void> {
  const r = await ctx.proc.run('kubectl', ['--kubeconfig', plan.drain!.kubeconfig, ...args], { allowFailure: true, timeoutMs });
  if (r.exitCode === 0) return;
  const hint = args[0] === 'drain' ? `the node stays cordoned; look for a PodDisruptionBudget or a pod without a controller (\`kubectl drain ${plan.nodeName} --dry-run=server\`); the next run drains again` : `run \`kubectl uncordon ${plan.nodeName}\` on the control plane`;
  throw new StepError(`kubectl ${args[0]} ${plan.nodeName}: ${describeFailure(r)}`, hint, r.timedOut);
}

