import type { Command } from 'commander';
import os from 'node:os';
import path from 'node:path';
import { makeBundle, nodeConfigHint } from '../../bundle/bundle.js';
import { sha256 } from '../../bundle/checksums.js';
import { StepError, type StepContext } from '../../engine/step.js';
import { gatherFacts } from '../../host/facts.js';
import { hostFiles, type Files } from '../../host/files.js';
import { hostProc } from '../../host/proc.js';
import { redact } from '../../host/redact.js';
import { VERSION } from '../../version.js';
import { CliExit, EXIT } from '../exit.js';
import { print, printErr } from '../output.js';
import { globals, loadOrExit } from '../globals.js';

// `joinagent bundle --out FILE`, on a connected machine of the nodes' release: see
// src/bundle/bundle.ts. Nothing of this machine changes but FILE (the work directory
// beside it is removed at the end).
export function registerBundle(program: Command): void {
  program
    .command('bundle')
    .description('collect packages (with dependencies), the two images and this binary for air-gapped nodes into one tar file')
    .requiredOption('--out <file>', 'the bundle to write (.tar, or .tar.gz / .tgz compressed)')
    .action(async (o: { out: string }, cmd: Command) => {
      const g = globals(cmd);
      const { config } = await loadOrExit(g, { requireToken: false });
      const out = path.resolve(o.out);
      const work = `${out}.work-${process.pid}`;
      const proc = hostProc(false);
      // the bundle's own files are not the host's configuration: no backups of them
      const base = hostFiles('/');
      const files: Files = { ...base, write: (p, c, w) => base.write(p, c, { ...w, backup: false }) };
      const ctx: StepContext = {
        config,
        facts: await gatherFacts(hostFiles(g.root, true)),
        files,
        proc,
        dryRun: false,
        signal: new AbortController().signal,
        progress: (m) => printErr(`bundle: ${redact(m)}\n`),
        warn: (m, h) => printErr(`bundle: warning: ${redact(m)}${h ? ` (${redact(h)})` : ''}\n`),
        publish: () => undefined,
        published: {},
      };
      try {
        const r = await makeBundle(ctx, work, VERSION);
        const gz = /\.(tgz|tar\.gz)$/.test(out);
        await proc.run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', work, gz ? '-czf' : '-cf', out, path.basename(r.dir)], { timeoutMs: 15 * 60_000 });
        const sum = sha256((await base.readBytes(out))!);
        print(
          [
            `bundle: ${out}: Kubernetes ${config.agent.kubernetesVersion}, ${ctx.facts.osName} ${os.arch()}: ${r.packages.length} packages, ${r.images.length} images${r.binary ? ', the joinagent binary' : ''}`,
            `sha256 ${sum}  ${path.basename(out)}`,
            `on the node: check that sha256, unpack with \`tar -xf ${path.basename(out)} -C /opt\`, and set in the config:`,
            nodeConfigHint(config).replace(/^/gm, '  '),
            '',
          ].join('\n'),
        );
      } catch (e) {
        if (e instanceof StepError) throw new CliExit(EXIT.failed, redact(`joinagent ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`));
        throw e;
      } finally {
        await proc.run('rm', ['-rf', '--one-file-system', work], { allowFailure: true });
      }
    });
}
