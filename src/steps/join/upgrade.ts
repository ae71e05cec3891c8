import type { LoadedConfig } from '../../config/types.js';
import { StepError, type Step, type StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { workerImages } from '../../runtime/images.js';
import { remainingActions, upgradeActions, type UpgradeAction, type UpgradePlanInput } from '../../upgrade/actions.js';
import { apiServerVersion } from '../../upgrade/cluster.js';
import { nodeVersion, normalise } from '../../upgrade/node-version.js';
import { readRecord, writeRecord, type UpgradeRecord } from '../../upgrade/record.js';
import { runAction } from '../../upgrade/run-action.js';
import { upgradeVerdict } from '../../upgrade/skew.js';
import { kubernetesRepoUrl } from '../host/packages/repos.js';

const RECORD = 'record that this node runs';

interface Planned {
  from: string;
  to: string;
  kind: 'patch' | 'minor';
  input: UpgradePlanInput;
  all: UpgradeAction[];
  left: UpgradeAction[];
  record: UpgradeRecord;
}

// The in-place worker upgrade (kubeadm's "Upgrading Linux nodes"): when kubernetesVersion
// is newer than what the node runs. `target` is the config as written; every other step
// sees the running version until this one has moved the node (upgrade/node-version.ts).
// Progress is on disk after every action, so a failed or killed run resumes where it
// stopped.
export function upgradeStep(target: LoadedConfig, nodeName: string): Step {
  return {
    id: 'upgrade',
    title: 'In-place upgrade to kubernetesVersion (kubeadm upgrade node)',
    phase: 'join',
    after: ['join'],
    async check(ctx) {
      const to = normalise(target.agent.kubernetesVersion);
      const node = await nodeVersion(ctx);
      if (!node) return { state: 'skip', reason: 'not joined yet: the join installs kubernetesVersion' };
      if (!node.upgrade && node.version === to) {
        if (node.source === 'record') {
          // also ends a `pending` a reload published; the last upgrade stays visible as done
          const last = (await readRecord(ctx.files))?.last;
          ctx.publish('upgrade', last?.to === to ? { ...last, state: 'done' } : { state: 'current', version: to });
          return { state: 'ok', message: `the node runs ${to}` };
        }
        return { state: 'change', changes: [{ kind: 'action', description: `${RECORD} ${to} (${paths.upgradeRecord}), to compare later versions with` }] };
      }
      const p = await planUpgrade(ctx, target, nodeName, to);
      const resuming = p.left.length < p.all.length ? `; resuming after ${p.all.length - p.left.length} of ${p.all.length} actions done` : '';
      ctx.publish('upgrade', status(p, 'pending', target));
      return {
        state: 'change',
        message: `upgrade ${p.from} -> ${p.to} (${p.kind})${resuming}`,
        changes: p.left.map((a) => ({ kind: 'action' as const, description: `${p.all.indexOf(a) + 1}/${p.all.length} ${a.id}: ${a.description}` })),
      };
    },
    async apply(ctx, changes) {
      const to = normalise(target.agent.kubernetesVersion);
      if (changes.some((c) => c.kind === 'action' && c.description.startsWith(RECORD))) return writeRecord(ctx.files, { version: to });
      const p = await planUpgrade(ctx, target, nodeName, to);
      const rec = p.record;
      await writeRecord(ctx.files, rec);
      if (!p.input.drain) ctx.warn(`upgrade ${p.from} -> ${p.to}: the node is not drained (upgrade.drainKubeconfig is not set); its pods keep running while the kubelet restarts`, 'drain it from the control plane first (`kubectl drain`), or give joinagent a kubeconfig allowed to drain (upgrade.drainKubeconfig)');
      for (const a of p.left) {
        ctx.publish('upgrade', { ...status(p, 'running', target), at: a.id });
        ctx.progress(`upgrade ${p.from} -> ${p.to}: ${a.id}`);
        try {
          await runAction(a.id, { ctx, target, plan: p.input });
        } catch (e) {
          const err = e instanceof StepError ? e : new StepError((e as Error).message, undefined, false, { cause: e });
          rec.upgrade = { ...rec.upgrade!, stoppedAt: a.id, error: err.message };
          await writeRecord(ctx.files, rec);
          const n = p.all.indexOf(a) + 1;
          ctx.publish('upgrade', { ...status(p, 'stopped', target), stoppedAt: a.id, error: err.message });
          throw new StepError(`upgrade ${p.from} -> ${p.to} stopped at ${a.id} (action ${n} of ${p.all.length}): ${err.message}`, `${err.hint ? `${err.hint}; ` : ''}the node is as kubeadm leaves it after "${p.all[n - 2]?.id ?? 'nothing'}"; the next run resumes at ${a.id}`, err.retryable, { cause: e });
        }
        rec.upgrade = { ...rec.upgrade!, done: [...rec.upgrade!.done, a.id], stoppedAt: undefined, error: undefined };
        await writeRecord(ctx.files, rec);
      }
      const done = { ...status(p, 'done', target), from: p.from, to: p.to, finishedAt: new Date().toISOString() };
      await writeRecord(ctx.files, { version: p.to, last: done });
      ctx.publish('upgrade', done);
    },
  };
}

// The upgrade from what the node runs (or the one under way) to `to`: refused with the
// reason when the skew policy forbids it (the API server's version read as the node).
async function planUpgrade(ctx: StepContext, target: LoadedConfig, nodeName: string, to: string): Promise<Planned> {
  const rec = (await readRecord(ctx.files)) ?? { version: (await nodeVersion(ctx))!.version };
  const node = (await nodeVersion(ctx))!;
  // an upgrade under way to another version than now configured starts over from its origin
  const going = rec.upgrade && rec.upgrade.to === to ? rec.upgrade : undefined;
  const from = rec.upgrade?.from ?? node.version;
  let api: string;
  try {
    api = await apiServerVersion(ctx.files, ctx.signal);
  } catch (e) {
    throw new StepError(`upgrade ${from} -> ${to}: cannot read the API server's version: ${(e as Error).message}`, 'the skew policy is checked against the control plane before anything changes; check that it is reachable', true, { cause: e });
  }
  const v = upgradeVerdict(from, to, api);
  if (v.kind === 'refused') {
    ctx.publish('upgrade', { state: 'refused', from: v.from, to: v.to, apiServer: api, reason: v.reason });
    throw new StepError(`upgrade ${v.from} -> ${v.to} refused: ${v.reason}`, v.hint);
  }
  if (v.kind === 'none') throw new StepError(`upgrade: internal: nothing to upgrade from ${from} to ${to}`);
  const family = ctx.facts.family ?? 'debian';
  const input: UpgradePlanInput = {
    from: v.from,
    to: v.to,
    nodeName,
    repoUrl: kubernetesRepoUrl(target, family),
    images: workerImages(target.agent),
    ...(target.agent.upgrade.drainKubeconfig ? { drain: { kubeconfig: target.agent.upgrade.drainKubeconfig, timeoutMs: target.agent.upgrade.drainTimeout } } : {}),
    hold: family === 'debian' ? 'apt-mark hold' : 'dnf versionlock',
  };
  const all = upgradeActions(input);
  const left = going ? remainingActions(all, going.done) : all;
  const record: UpgradeRecord = { version: v.from, upgrade: going ?? { from: v.from, to: v.to, startedAt: new Date().toISOString(), done: [] } };
  return { from: v.from, to: v.to, kind: v.kind, input, all, left, record };
}

// What /status shows under published.upgrade.
function status(p: Planned, state: 'pending' | 'running' | 'stopped' | 'done', target: LoadedConfig): Record<string, unknown> {
  return {
    state,
    from: p.from,
    to: p.to,
    kind: p.kind,
    actions: p.all.map((a) => a.id),
    done: p.record.upgrade?.done ?? [],
    drained: target.agent.upgrade.drainKubeconfig ? true : 'no: upgrade.drainKubeconfig is not set (draining is the control plane\'s job)',
  };
}
