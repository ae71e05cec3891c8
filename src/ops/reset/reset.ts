import { archiveManifestAction, fileRevertPlan } from './files-revert.js';
import { hostRevertPlan } from './host-revert.js';
import { joinResetActions } from './join-reset.js';
import type { ResetContext, ResetOptions, ResetPlan } from './types.js';

// The whole reset as a list of actions, computed without changing anything: the join
// first (kubeadm, kubelet, joinagent's join record), then with --all the host
// preparation from joinagent's own backups and records.
export async function planReset(ctx: ResetContext, opts: ResetOptions): Promise<ResetPlan> {
  const plan: ResetPlan = { actions: await joinResetActions(ctx), warnings: [] };
  if (!opts.all) return plan;
  for (const part of [await fileRevertPlan(ctx), await hostRevertPlan(ctx, opts.purgePackages)]) {
    plan.actions.push(...part.actions);
    plan.warnings.push(...part.warnings);
  }
  plan.actions.push(archiveManifestAction(ctx.files));
  return plan;
}

export interface ActionResult {
  title: string;
  ok: boolean;
  note?: string;
}

// Carries out every action even when one fails (a failed kubeadm reset must not stop
// the file restores), reporting each as it goes.
export async function executeReset(plan: ResetPlan, report: (r: ActionResult) => void): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  for (const a of plan.actions) {
    let r: ActionResult;
    try {
      const note = await a.run();
      r = { title: a.title, ok: true, note: note || undefined };
    } catch (e) {
      r = { title: a.title, ok: false, note: (e as Error).message };
    }
    results.push(r);
    report(r);
  }
  return results;
}

export function renderPlan(plan: ResetPlan, heading: string): string {
  const lines = [heading, ...plan.actions.map((a, i) => `  ${i + 1}. ${a.title}`)];
  if (plan.warnings.length) lines.push('left alone:', ...plan.warnings.map((w) => `  - ${w}`));
  return lines.join('\n') + '\n';
}
