import { print } from '../output.js';
import { withClusterVersion } from '../../join/cluster-version.js';
import type { Command } from 'commander';
import { hostFiles } from '../../host/files.js';
import { hostProc } from '../../host/proc.js';
import { diagnose } from '../../join/diagnose.js';
import { formatCheck } from '../../join/report.js';
import { EXIT } from '../exit.js';
import { globals, loadOrExit } from '../globals.js';

// `joinagent diagnose`: the troubleshooting appendix, one line per check (exit 0 when
// nothing failed, 1 otherwise). Read-only.
export function registerDiagnose(program: Command): void {
  program
    .command('diagnose')
    .description('read-only: route, TCP/TLS to the API server, /healthz, token, clock, firewall, swap, kubelet, containerd; one line each (exit 0 all pass, 1 otherwise)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const loaded = (await loadOrExit(g, { requireToken: false })).config;
      // kubernetesVersion: cluster; unreachable: the checks below say why
      const config = await withClusterVersion(loaded).catch(() => loaded);
      const checks = await diagnose(config, hostFiles(g.root, true), hostProc(true));
      for (const c of checks) print(formatCheck(c) + '\n');
      const failed = checks.filter((c) => c.level === 'fail');
      print(failed.length ? `diagnose: ${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.name).join(', ')}\n` : 'diagnose: all checks passed\n');
      process.exitCode = failed.length ? EXIT.failed : EXIT.ok;
    });
}
