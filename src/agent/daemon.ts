import { EXIT } from '../cli/exit.js';
import type { GlobalOptions } from '../cli/globals.js';
import { sleep } from '../engine/retry.js';
import type { Agent } from './converge.js';

// Daemon mode: converge, then keep serving status until SIGTERM/SIGINT (exit 0).
// The reconcile loop (drift repair, join retries) hooks in here.
export async function runDaemon(agent: Agent, _g: GlobalOptions): Promise<number> {
  const stop = (): void => agent.controller.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await agent.converge('run');
    while (!agent.controller.signal.aborted) await sleep(60_000, agent.controller.signal);
    return EXIT.ok;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await agent.stop();
  }
}
