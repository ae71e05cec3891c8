import { print } from '../output.js';
import path from 'node:path';
import type { Command } from 'commander';
import { pinsOf } from '../../join/capin.js';
import { hostFiles } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import { CliExit, EXIT } from '../exit.js';
import { globals } from '../globals.js';

// `joinagent ca-hash`: the value for caCertHashes, replacing the runbook's
// `openssl x509 -pubkey | openssl rsa -pubin -outform der | openssl dgst -sha256` pipeline.
export function registerCaHash(program: Command): void {
  program
    .command('ca-hash')
    .description(`print the CA pin for caCertHashes (sha256 of the CA's public key), default ${paths.kubeCaCert}`)
    .option('--cert <file>', 'a PEM or DER CA certificate (one pin per certificate in a bundle)')
    .action(async (o: { cert?: string }, cmd: Command) => {
      const g = globals(cmd);
      // an explicit --cert is a path as typed; the default is the host's CA under --root
      const files = hostFiles(o.cert ? '/' : g.root, true);
      // relative to the current directory, as the operator typed it (host paths are absolute)
      const file = o.cert ? path.resolve(o.cert) : paths.kubeCaCert;
      const data = await files.readBytes(file).catch((e: NodeJS.ErrnoException) => {
        throw new CliExit(EXIT.failed, `joinagent ca-hash: cannot read ${file}: ${e.code ?? e.message}`);
      });
      if (data === null) throw new CliExit(EXIT.failed, `joinagent ca-hash: ${file} does not exist${o.cert ? '' : ' (run this on a control-plane node, or pass --cert FILE)'}`);
      let pins: string[];
      try {
        pins = pinsOf(data, file);
      } catch (e) {
        throw new CliExit(EXIT.failed, `joinagent ca-hash: ${(e as Error).message}`);
      }
      print(pins.join('\n') + '\n');
    });
}
