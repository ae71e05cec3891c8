import { StepError, type StepContext } from '../../engine/step.js';
import { sleep } from '../../engine/retry.js';
import type { CriClient } from '../../runtime/cri/client.js';
import { CriError } from '../../runtime/cri/errors.js';
import type { RuntimeStatusInfo } from '../../runtime/cri/messages.js';
import { criLoadFailure, criLoadHint } from '../../runtime/cri-load-failure.js';
import { criSocketPath } from '../../runtime/socket.js';

// The CRI endpoint the steps talk to: JoinConfiguration nodeRegistration.criSocket, mapped
// under --root (so tests point it at a private containerd).
export interface CriEndpoint {
  url: string;
  hostPath: string;
  path: string;
}

export function criEndpoint(ctx: StepContext): CriEndpoint {
  const url = ctx.config.join.criSocket;
  let hostPath: string;
  try {
    hostPath = criSocketPath(url);
  } catch (e) {
    throw new StepError((e as Error).message, 'fix nodeRegistration.criSocket in the JoinConfiguration');
  }
  return { url, hostPath, path: ctx.files.resolve(hostPath) };
}

// Runs fn with a client that is always closed afterwards. The gRPC stack is loaded on
// first use, not at start-up: /status must be served before it is needed.
export async function withCri<T>(ctx: StepContext, fn: (client: CriClient, ep: CriEndpoint) => Promise<T>): Promise<T> {
  const ep = criEndpoint(ctx);
  const { CriClient } = await import('../../runtime/cri/client.js');
  const client = new CriClient(ep.path);
  try {
    return await fn(client, ep);
  } finally {
    client.close();
  }
}

export const CRI_DISABLED_HINT =
  'containerd runs without its CRI plugin: check `disabled_plugins` in the config containerd really reads (`systemctl cat containerd` shows --config), and whether config management rewrites /etc/containerd/config.toml';

// After a (re)start: wait until the runtime answers CRI Status with RuntimeReady. A
// runtime that answers but does not implement CRI is not going to get better by waiting.
export async function waitForCriReady(ctx: StepContext, client: CriClient, ep: CriEndpoint, timeoutMs: number): Promise<RuntimeStatusInfo> {
  const deadline = Date.now() + timeoutMs;
  let unimplemented = 0;
  let last = 'no answer yet';
  while (!ctx.signal.aborted) {
    try {
      const st = await client.status(true);
      const ready = st.conditions.find((c) => c.type === 'RuntimeReady');
      if (ready?.status) return st;
      last = `RuntimeReady is false${ready?.reason ? `: ${ready.reason} ${ready.message}` : ''}`;
    } catch (e) {
      if (!(e instanceof CriError)) throw e;
      if (e.unimplemented && ++unimplemented >= 3) throw await criUnavailable(ctx, ep, e.details);
      last = e.details;
    }
    if (Date.now() > deadline) break;
    await sleep(500, ctx.signal);
  }
  throw new StepError(`the container runtime on ${ep.url} did not become ready within ${Math.round(timeoutMs / 1000)}s: ${last}`, 'see `systemctl status containerd` and `journalctl -u containerd`', true);
}

// containerd serves without CRI either because the config disables it or because the
// plugin failed to start; its log says which, and the error should too.
async function criUnavailable(ctx: StepContext, ep: CriEndpoint, details: string): Promise<StepError> {
  const journal = await ctx.proc.probe('journalctl', ['-u', 'containerd', '-b', '-n', '400', '-o', 'short', '--no-pager'], { allowFailure: true, timeoutMs: 10_000 });
  const failure = criLoadFailure(journal.stdout);
  if (!failure) return new StepError(`containerd answers on ${ep.url} but the CRI API is not available (${details})`, CRI_DISABLED_HINT);
  return new StepError(`containerd answers on ${ep.url} but its CRI plugin failed to start: ${failure}`, criLoadHint(failure) ?? 'see `journalctl -u containerd` for the plugin error, fix its cause, then systemctl restart containerd');
}

// The live CRI status when the runtime is up; null when nothing answers on the socket.
export async function liveStatus(ctx: StepContext): Promise<{ status?: RuntimeStatusInfo; unimplemented?: boolean } | null> {
  const ep = criEndpoint(ctx);
  if (!(await ctx.files.exists(ep.hostPath))) return null;
  return withCri(ctx, async (client) => {
    try {
      return { status: await client.status(true) };
    } catch (e) {
      if (e instanceof CriError && e.unimplemented) return { unimplemented: true };
      if (e instanceof CriError && e.unavailable) return null;
      throw e;
    }
  });
}
