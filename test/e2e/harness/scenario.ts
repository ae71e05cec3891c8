import { test } from 'node:test';
import { ensureBinary } from './agent.js';
import type { Node } from './node.js';

// A scenario is a node:test test that prints its wall-clock duration (the issue asks
// for each one) and, when it fails, the node's journal tail for the units that matter.
// The first scenario of a file also reports the time its before() hook took to boot
// the world (node, repository, registry, control plane): that is part of its cost.
const loadedAt = Date.now();
let first = true;

export function scenario(name: string, fn: () => Promise<void>, node?: () => Node | undefined): void {
  test(name, { timeout: 10 * 60_000 }, async () => {
    const t = Date.now();
    const setup = first ? ` (+ ${((t - loadedAt) / 1000).toFixed(1)}s booting its node and services)` : '';
    first = false;
    try {
      await fn();
    } catch (e) {
      const n = node?.();
      if (n?.pid1) {
        const j = await n.exec(['journalctl', '--no-pager', '-n', '40', '-u', 'joinagent', '-u', 'kubelet', '-u', 'joinagent-adhoc'], { allowFailure: true }).catch(() => undefined);
        if (j) console.log(`# journal of ${n.name}:\n${j.stdout.replace(/^/gm, '#   ')}`);
      }
      throw e;
    } finally {
      console.log(`# ${name}: ${((Date.now() - t) / 1000).toFixed(1)}s${setup}`);
    }
  });
}

export const log = (m: string): void => console.log(`# ${m}`);

export { ensureBinary };
