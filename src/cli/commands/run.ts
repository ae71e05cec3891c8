import { print } from '../output.js';
import type { Command } from 'commander';
import { Agent } from '../../agent/converge.js';
import { runDaemon } from '../../agent/daemon.js';
import { LockHeld } from '../../engine/lock.js';
import { parseStepList, UnknownStep, type StepSelection } from '../../engine/select.js';
import { EXIT, CliExit } from '../exit.js';
import { globals, loadOrExit, loggerFor } from '../globals.js';
import { renderPlan } from '../plan-output.js';
import { kubeadmDryRun } from '../../join/dryrun.js';
import { joinedOnDisk } from '../../join/local.js';
import { ClusterVersionError, withClusterVersion } from '../../join/cluster-version.js';
import type { LoadedConfig } from '../../config/types.js';

// run, plan and prepare share one path: load config, start the agent, converge.
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('prepare the host, join the cluster, then keep running as a daemon serving status')
    .option('--once', 'converge once and exit (0 joined, 1 failed)')
    .option('--dry-run', 'show what would change (same as plan); passes --dry-run to kubeadm')
    .option('--only <steps>', 'converge only these steps (comma-separated ids, see plan)', parseStepList)
    .option('--skip <steps>', 'leave these steps alone (reported as skipped)', parseStepList)
    .action(async (o: { once?: boolean; dryRun?: boolean } & StepSelection, cmd: Command) => {
      if (o.dryRun) return plan(cmd, 'run', o, true);
      process.exitCode = await converge(cmd, 'run', Boolean(o.once), o);
    });
  program
    .command('prepare')
    .description('everything except the join: host preparation, containerd, images (golden images, later joins)')
    .option('--dry-run', 'show what would change')
    .option('--only <steps>', 'converge only these steps (comma-separated ids)', parseStepList)
    .option('--skip <steps>', 'leave these steps alone (reported as skipped)', parseStepList)
    .action(async (o: { dryRun?: boolean } & StepSelection, cmd: Command) => {
      if (o.dryRun) return plan(cmd, 'prepare', o);
      process.exitCode = await converge(cmd, 'prepare', true, o);
    });
  program
    .command('plan')
    .description('read-only: each step ok or would change, with a diff; changes nothing')
    .option('--prepare', 'plan only the prepare steps (no join)')
    .option('--only <steps>', 'plan only these steps (comma-separated ids)', parseStepList)
    .option('--skip <steps>', 'leave these steps out', parseStepList)
    .action(async (o: { prepare?: boolean } & StepSelection, cmd: Command) => plan(cmd, o.prepare ? 'prepare' : 'run', o));
}

async function converge(cmd: Command, set: 'run' | 'prepare', once: boolean, sel: StepSelection): Promise<number> {
  const g = globals(cmd);
  // a joined node needs no token (joinagent removed it after the join)
  const config = await clusterVersionOrExit((await loadOrExit(g, { requireToken: set === 'run' && !(await joinedOnDisk(g.root)) })).config);
  const log = await loggerFor(g);
  const agent = new Agent(config, { mode: set, root: g.root, log, readOnly: false, serve: true, stepSet: set, selection: selection(sel) });
  try {
    await agent.start();
    agent.steps(); // an unknown --only/--skip id is a usage error before anything runs
  } catch (e) {
    if (e instanceof UnknownStep) {
      await agent.stop();
      throw new CliExit(EXIT.usage, `joinagent: ${e.message}`);
    }
    if (e instanceof LockHeld) throw new CliExit(EXIT.failed, `joinagent: ${e.message}`);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CliExit(EXIT.failed, `joinagent: status address ${config.agent.status.address} is in use: another agent or program listens there (set status.address)`);
    throw e;
  }
  if (once) {
    const stopOnSignal = (): void => agent.controller.abort();
    process.once('SIGTERM', stopOnSignal);
    process.once('SIGINT', stopOnSignal);
    try {
      const r = await agent.converge(set);
      if (r.ok) return EXIT.ok;
      const upgrade = agent.model.doc.published.upgrade as { state?: string } | undefined;
      return r.failedStep === 'upgrade' && upgrade?.state === 'stopped' ? EXIT.upgradeStopped : EXIT.failed;
    } finally {
      await agent.stop();
    }
  }
  return runDaemon(agent, g.config);
}

async function plan(cmd: Command, set: 'run' | 'prepare', sel: StepSelection, kubeadm = false): Promise<void> {
  const g = globals(cmd);
  const config = await clusterVersionOrExit((await loadOrExit(g, { requireToken: false })).config);
  const log = await loggerFor({ ...g, logLevel: g.logLevel === 'info' ? 'warn' : g.logLevel });
  const agent = new Agent(config, { mode: 'plan', root: g.root, log, readOnly: true, serve: false, stepSet: set, selection: selection(sel) });
  await agent.start();
  let steps;
  try {
    steps = agent.steps();
  } catch (e) {
    await agent.stop();
    if (e instanceof UnknownStep) throw new CliExit(EXIT.usage, `joinagent: ${e.message}`);
    throw e;
  }
  const r = await agent.converge('plan', steps);
  await agent.stop();
  print(renderPlan(r.outcomes, new Map(steps.map((s) => [s.id, s.title]))));
  let ok = !r.outcomes.some((o) => o.state === 'failed');
  // run --dry-run also hands kubeadm its --dry-run when the plan would join
  if (kubeadm && ok && r.outcomes.find((o) => o.id === 'join')?.state === 'changed') {
    const nodeIP = agent.model.doc.published.nodeIP as string | undefined;
    ok = await kubeadmDryRun(config, g.root, nodeIP, (l) => print(`${l}\n`));
  }
  process.exitCode = ok ? EXIT.ok : EXIT.failed;
}

// kubernetesVersion: cluster, resolved before any step is built
async function clusterVersionOrExit(config: LoadedConfig): Promise<LoadedConfig> {
  try {
    return await withClusterVersion(config);
  } catch (e) {
    if (e instanceof ClusterVersionError) throw new CliExit(EXIT.failed, `joinagent: ${e.message}`);
    throw e;
  }
}

function selection(o: StepSelection): StepSelection | undefined {
  return o.only || o.skip ? { only: o.only, skip: o.skip } : undefined;
}
