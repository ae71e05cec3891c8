import { print } from '../output.js';
import { withClusterVersion } from '../../join/cluster-version.js';
import type { Command } from 'commander';
import { discoverConfigured, discoveryMethod } from '../../join/discover-config.js';
import { formatCheck } from '../../join/report.js';
import { redact } from '../../host/redact.js';
import { EXIT } from '../exit.js';
import { globals, loadOrExit } from '../globals.js';

// `joinagent discover`: kubeadm's discovery (token or file), read-only, one line per stage,
// so an operator learns whether endpoint, token and CA are right before joining.
export function registerDiscover(program: Command): void {
  program
    .command('discover')
    .description('read-only: check the API server, bootstrap token and CA (pin, or the discovery file\'s) like kubeadm join would (exit 0 ok, 1 failed)')
    .option('--json', 'print the checks as JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const loaded = (await loadOrExit(g, { requireToken: false })).config;
      // kubernetesVersion: cluster; unreachable: the checks below say why
      const config = await withClusterVersion(loaded).catch(() => loaded);
      const j = config.join;
      const r = await discoverConfigured(config);
      // the API server is always in NO_PROXY: discovery, kubeadm and kubelet reach it directly
      const proxy = config.agent.proxy ? { used: false, reason: `the API server ${r.apiServer ?? j.apiServerEndpoint} is in NO_PROXY (always): reached directly` } : undefined;
      if (o.json) {
        print(redact(JSON.stringify({ ...r, ...(proxy ? { proxy } : {}) }, null, 2)) + '\n');
      } else {
        if (proxy) print(`proxy: not used: ${proxy.reason}\n`);
        for (const c of r.checks) print(formatCheck(c) + '\n');
        const tokenId = config.token?.split('.')[0];
        const file = j.discovery?.kind === 'file';
        const trust = file ? `CA ${r.clusterCaPins?.[0] ?? '(none: insecure-skip-tls-verify)'} from the discovery file` : `CA ${r.clusterCaPins?.[0]}${j.caCertHashes.length ? ' pinned' : ' NOT pinned'}`;
        const who = tokenId ? `, token "${tokenId}" valid` : file ? ', the kubeconfig\'s credentials accepted' : ', no token checked';
        print(
          r.ok
            ? `discovery ok: API server ${r.serverVersion} at ${r.apiServer ?? j.apiServerEndpoint}${file ? ` (${discoveryMethod(config)})` : ''}${who}, ${trust}\n`
            : `discovery failed at ${r.failure?.name}: ${r.failure?.message}\n`,
        );
      }
      process.exitCode = r.ok ? EXIT.ok : EXIT.failed;
    });
}
