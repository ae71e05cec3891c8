import type { ChangeRecord, PersistedState } from '../../engine/state.js';
import { paths } from '../../host/paths.js';
import { shellQuote } from '../../host/proc.js';
import type { ResetContext, ResetPlan } from './types.js';

// Steps whose changes the join reset (kubeadm reset, joinagent's join record) undoes. An
// in-place upgrade is not undone (kubeadm has no downgrade); the join reset removes its
// record, and --purge-packages the packages it moved.
const JOIN_STEPS = new Set(['discovery', 'node-ip', 'join', 'join-cleanup', 'node-ready', 'upgrade']);

// A file whose restored original a running service only reads when restarted.
const RELOAD_AFTER_RESTORE: Record<string, string[]> = { [paths.containerdConfig]: ['systemctl', 'restart', 'containerd'] };

// Every change the agent recorded (state.json's change log), undone or named: each
// record carries how to undo what it changed, as the step saw it before (the previous
// time zone, a sysctl's previous value, the swap units it masked). Steps are undone in
// reverse order, a step's own commands in the order it ran them (unmask, then swapon).
// Files are the manifest's business (files-revert.ts); what cannot be undone is said
// precisely. Returns the steps whose records had no undo (older agents' records).
export function changeRevertPlan(ctx: ResetContext, state: Pick<PersistedState, 'changeLog'>, plan: ResetPlan, purgePackages: boolean): Set<string> {
  const seen = new Set(plan.actions.map((a) => a.command).filter(Boolean));
  const legacy = new Set<string>();
  const modules = new Set<string>();
  const images = new Set<string>();
  const packages = new Set<string>();
  const add = (argv: string[], why: string): void => {
    const command = argv.map(shellQuote).join(' ');
    if (seen.has(command)) return;
    seen.add(command);
    plan.actions.push({ title: `undo ${why}: ${command}`, command, run: async () => void (await ctx.proc.run(argv[0], argv.slice(1), { timeoutMs: 5 * 60_000 })) });
  };
  for (const r of [...(state.changeLog ?? [])].reverse()) {
    if (JOIN_STEPS.has(r.step)) continue;
    if (!r.undo) {
      legacy.add(r.step);
      continue;
    }
    r.changes.forEach((text, i) => {
      const undo = r.undo![i];
      const file = /^(?:edit|create|remove) (\/\S+)$/.exec(text)?.[1];
      if (file && RELOAD_AFTER_RESTORE[file]) add(RELOAD_AFTER_RESTORE[file], `${r.step} "${text}" (load the restored file)`);
      if (undo) for (const argv of undo) add(argv, `${r.step} "${text}"`);
      else note(r, text, { modules, images, packages, plan });
    });
  }
  if (modules.size) plan.warnings.push(`kernel modules ${[...modules].join(', ')} stay loaded until the next boot (modprobe -r ${[...modules].reverse().join(' ')} unloads them now)`);
  if (images.size) plan.warnings.push(`images joinagent pulled stay in containerd: ${[...images].join(', ')} (crictl rmi IMAGE removes one)`);
  if (packages.size && !purgePackages) plan.warnings.push(`packages joinagent installed or held stay: ${[...packages].join(', ')} (reset --all --purge-packages removes them)`);
  return legacy;
}

// A change without an undo: what it leaves behind, in the operator's words.
function note(r: ChangeRecord, text: string, acc: { modules: Set<string>; images: Set<string>; packages: Set<string>; plan: ResetPlan }): void {
  const mod = /^run: modprobe (\S+)$/.exec(text)?.[1];
  const image = /^pull (\S+)$/.exec(text)?.[1];
  const pkg = /^(?:package|hold) ([^:]+):/.exec(text)?.[1];
  if (mod) acc.modules.add(mod);
  else if (image) acc.images.add(image);
  else if (pkg) acc.packages.add(pkg);
  else acc.plan.warnings.push(`cannot undo "${text}" (step ${r.step}, ${r.at})`);
}
