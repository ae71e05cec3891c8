import { print } from '../output.js';
import type { Command } from 'commander';
import { acquireLock, LockHeld } from '../../engine/lock.js';
import { hostFiles } from '../../host/files.js';
import { hostProc } from '../../host/proc.js';
import { executeReset, planReset, renderPlan } from '../../ops/reset/reset.js';
import { CliExit, EXIT } from '../exit.js';
import { globals } from '../globals.js';

interface ResetOpts {
  all?: boolean;
  purgePackages?: boolean;
  yes?: boolean;
  dryRun?: boolean;
}

export function registerReset(program: Command): void {
  program
    .command('reset')
    .description('undo the join so the node can join again; --all also reverts the host preparation from joinagent\'s backups')
    .option('--all', 'also restore the files joinagent edited (fstab, hosts ...), remove the ones it created, re-enable the firewall and SELinux mode it changed')
    .option('--purge-packages', 'with --all: also remove the packages joinagent installed')
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--dry-run', 'show what reset would do; change nothing')
    .action(async (o: ResetOpts, cmd: Command) => {
      const g = globals(cmd);
      if (o.purgePackages && !o.all) throw new CliExit(EXIT.usage, 'joinagent reset: --purge-packages needs --all');
      const dry = Boolean(o.dryRun);
      // dry run: files and processes refuse any change, so the plan provably changes nothing
      const files = hostFiles(g.root, dry);
      const proc = hostProc(dry);
      const plan = await planReset({ files, proc }, { all: Boolean(o.all), purgePackages: Boolean(o.purgePackages) });
      print(renderPlan(plan, dry ? 'joinagent reset would:' : 'joinagent reset will:'));
      if (dry) return void print('--dry-run: nothing was changed\n');
      await confirm(Boolean(o.yes));
      let release: () => Promise<void>;
      try {
        // a running agent would re-join (or re-prepare) behind our back
        release = await acquireLock(files);
      } catch (e) {
        if (e instanceof LockHeld) throw new CliExit(EXIT.failed, `joinagent reset: ${e.message}`);
        throw e;
      }
      try {
        const results = await executeReset(plan, (r) => print(`${r.ok ? 'done  ' : 'FAILED'}  ${r.title}${r.note ? `\n        ${r.note}` : ''}\n`));
        const failed = results.filter((r) => !r.ok).length;
        print(failed ? `reset: ${failed} of ${results.length} actions failed (see above)\n` : `reset: done; 'joinagent run' prepares${o.all ? '' : ' (as needed)'} and joins this node again\n`);
        process.exitCode = failed ? EXIT.failed : EXIT.ok;
      } finally {
        await release();
      }
    });
}

// A reset destroys the node's membership: a person confirms on a terminal, a script says
// --yes; anything else is refused before anything changes.
async function confirm(yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new CliExit(EXIT.usage, 'joinagent reset: not on a terminal and no --yes: nothing was changed (pass --yes to confirm, or --dry-run to see what it would do)');
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question('Proceed? [y/N] ');
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliExit(EXIT.failed, 'joinagent reset: not confirmed; nothing was changed');
}
