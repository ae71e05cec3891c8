import path from 'node:path';
import { StepError, type Step, type StepContext } from '../../engine/step.js';
import type { CriClient } from '../../runtime/cri/client.js';
import { CriError } from '../../runtime/cri/errors.js';
import { registryHost, workerImages } from '../../runtime/images.js';
import { explainPullFailure } from '../../runtime/pull-errors.js';
import { verifyBundleDir } from '../../bundle/checksums.js';
import { mirrorsFor } from '../../runtime/registry-hosts.js';
import { criWanted } from './containerd-plan.js';
import { criEndpoint, withCri, type CriEndpoint } from './cri.js';
import type { RuntimeStepOptions } from './containerd-config.js';

type ImageState = 'present' | 'missing' | 'importing' | 'pulling' | 'pulled' | 'failed';

// Exactly kube-proxy and pause, pulled through CRI so they land where kubelet looks and
// registry mirrors apply; images already present are skipped; air-gapped sites import
// images.archives first. Each image's state shows under /status published.images.
export function imagesStep(opts: RuntimeStepOptions): Step {
  return {
    id: 'images',
    title: 'images kube-proxy and pause in the runtime',
    phase: 'images',
    after: opts.after,
    retry: { attempts: 4, baseMs: 3000, maxMs: 30_000 },
    async check(ctx) {
      const refs = wantedRefs(ctx);
      const ep = criEndpoint(ctx);
      if (!(await ctx.files.exists(ep.hostPath))) {
        if (ctx.dryRun) return { state: 'change', changes: refs.map((r) => ({ kind: 'action' as const, description: `pull ${r}` })), message: `runtime socket ${ep.url} not there yet` };
        throw socketAbsent(ep);
      }
      const states = await withCri(ctx, (client) => imageStates(client, ep, refs));
      ctx.publish('images', states);
      const missing = refs.filter((r) => states[r] !== 'present');
      if (!missing.length) return { state: 'ok', message: refs.join(', ') };
      return { state: 'change', changes: missing.map((r) => ({ kind: 'action' as const, description: `pull ${r}` })) };
    },
    async apply(ctx) {
      const refs = wantedRefs(ctx);
      await withCri(ctx, async (client, ep) => {
        const states = await imageStates(client, ep, refs);
        const archives = ctx.config.agent.images.archives;
        if (archives && refs.some((r) => states[r] !== 'present')) {
          await importArchives(ctx, ep, archives, refs, states);
          Object.assign(states, await imageStates(client, ep, refs));
        }
        const missing = refs.filter((r) => states[r] !== 'present');
        for (const [i, ref] of missing.entries()) {
          states[ref] = 'pulling';
          ctx.publish('images', { ...states });
          ctx.progress(`pulling ${ref} (${i + 1}/${missing.length})`);
          try {
            await client.pullImage(ref, 15 * 60_000, ctx.signal);
            states[ref] = 'pulled';
          } catch (e) {
            states[ref] = 'failed';
            ctx.publish('images', { ...states });
            throw pullError(ctx, ref, e);
          }
          ctx.publish('images', { ...states });
        }
      });
    },
  };
}

function wantedRefs(ctx: StepContext): string[] {
  criWanted(ctx); // same clear error for an unknown Kubernetes minor
  const imgs = workerImages(ctx.config.agent);
  return [imgs.kubeProxy, imgs.pause];
}

async function imageStates(client: CriClient, ep: CriEndpoint, refs: string[]): Promise<Record<string, ImageState>> {
  const out: Record<string, ImageState> = {};
  for (const ref of refs) {
    try {
      out[ref] = (await client.imageStatus(ref)) ? 'present' : 'missing';
    } catch (e) {
      if (e instanceof CriError && e.unimplemented) throw new StepError(`containerd on ${ep.url} does not serve the CRI image API`, 'the CRI plugin is disabled: see the containerd-config step');
      if (e instanceof CriError && e.unavailable) throw new StepError(`the container runtime on ${ep.url} does not answer: ${e.details}`, 'see `systemctl status containerd`', true);
      throw e;
    }
  }
  return out;
}

function socketAbsent(ep: CriEndpoint): StepError {
  return new StepError(
    `runtime socket ${ep.hostPath} (nodeRegistration.criSocket ${ep.url}) does not exist: containerd is not running`,
    'start it (`systemctl start containerd`, then `journalctl -u containerd` if it fails); if the runtime uses another socket, set nodeRegistration.criSocket',
  );
}

// `ctr images import` into the k8s.io namespace (where kubelet's images live) of the
// same containerd; done only while an image is still missing.
async function importArchives(ctx: StepContext, ep: CriEndpoint, dir: string, refs: string[], states: Record<string, ImageState>): Promise<void> {
  const files = (await ctx.files.list(dir)).filter((f) => /\.tar$/.test(f));
  // an unpacked joinagent bundle: every archive checked against its SHA256SUMS first
  const verified = await verifyBundleDir(ctx.files, dir.endsWith('/') ? dir : `${dir}/`, 'image archives');
  if (verified !== null) ctx.publish('bundle', { ...((ctx.published.bundle as object) ?? {}), images: { dir, verified } });
  if (!files.length) {
    ctx.warn(`images.archives ${dir} holds no .tar files`, 'put image archives there (ctr images export / docker save / skopeo copy oci-archive:)');
    return;
  }
  for (const r of refs) if (states[r] !== 'present') states[r] = 'importing';
  ctx.publish('images', { ...states });
  for (const f of files) {
    ctx.progress(`importing ${f}`);
    await ctx.proc.run('ctr', ['--address', ep.path, '-n', 'k8s.io', 'images', 'import', ctx.files.resolve(path.posix.join(dir, f))], { timeoutMs: 10 * 60_000 });
  }
}

function pullError(ctx: StepContext, ref: string, e: unknown): StepError {
  if (ctx.signal.aborted) return new StepError(`pulling ${ref}: stopped`, undefined, false, { cause: e });
  if (!(e instanceof CriError)) return new StepError(`pulling ${ref}: ${(e as Error).message}`, undefined, true, { cause: e });
  if (e.unimplemented) return new StepError(`containerd does not serve the CRI image API while pulling ${ref}`, 'the CRI plugin is disabled: see the containerd-config step');
  const host = registryHost(ref);
  const f = explainPullFailure(ref, host, mirrorsFor(host, ctx.config.agent.containerd.registryMirrors), e.details);
  return new StepError(f.message, f.hint, f.retryable, { cause: e });
}
