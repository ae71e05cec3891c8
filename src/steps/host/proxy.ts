import type { Change, Step, StepContext } from '../../engine/step.js';
import { maskUrlCredentials } from '../../config/formats.js';
import { paths } from '../../host/paths.js';
import { globalAddresses } from '../../join/nodeip.js';
import { describeProxy, dnfProxySettings, editIniSection, proxyView, renderAptProxy, renderProxyDropIn, type ProxyView } from '../../net/proxy.js';
import { commandChange, runCommandChanges } from './file-change.js';

// Files the proxy step owns (all carry a "Managed by joinagent from proxy" marker, except
// dnf.conf, where only the proxy keys of [main] are ours).
export const PROXY_FILES = {
  containerd: '/etc/systemd/system/containerd.service.d/http-proxy.conf',
  kubelet: '/etc/systemd/system/kubelet.service.d/http-proxy.conf',
  apt: '/etc/apt/apt.conf.d/95joinagent-proxy',
  dnf: '/etc/dnf/dnf.conf',
} as const;
const MARKER = 'Managed by joinagent from proxy';

interface Wanted {
  path: string;
  /** null = the file should not exist (proxy removed from the config). */
  content: string | null;
  mode: number;
  unit?: 'containerd' | 'kubelet';
}

// proxy: containerd and kubelet get the proxy environment through systemd drop-ins, apt
// (or dnf) its own setting; every file that holds proxy credentials is 0600. Runs before
// packages, so the package transaction already goes through the proxy.
export const proxyStep: Step = {
  id: 'proxy',
  title: 'HTTP(S) proxy for containerd, kubelet and the package manager',
  phase: 'host',
  async check(ctx) {
    const view = await nodeProxyView(ctx);
    if (view) ctx.publish('proxy', describeProxy(view));
    const wanted = await wantedFiles(ctx, view);
    const changes: Change[] = [];
    const reload = new Set<'containerd' | 'kubelet'>();
    for (const w of wanted) {
      const before = await ctx.files.read(w.path);
      const st = before === null ? null : await ctx.files.stat(w.path);
      if (before === w.content && (w.content === null || st?.mode === w.mode)) continue;
      // a removed proxy leaves others' files alone: only a file with our marker goes
      if (w.content === null && (before === null || !before.includes(MARKER))) continue;
      changes.push({ kind: 'file', path: w.path, before: before === null ? null : masked(before), after: w.content === null ? null : masked(w.content) });
      if (w.unit) reload.add(w.unit);
    }
    if (!(await ctx.files.exists(paths.systemdRunning))) return result(changes, view);
    // a drop-in written but never loaded (a crash before daemon-reload) is found here too
    // one systemctl for both units: it prints one block of properties per unit, blocks
    // apart by an empty line; Id= says whose block it is
    const units = ['containerd', 'kubelet'] as const;
    const blocks = (await ctx.proc.probe('systemctl', ['show', '-p', 'Id,DropInPaths,ActiveState,LoadState', ...units], { allowFailure: true })).stdout.split(/\n\s*\n/);
    for (const unit of units) {
      const show = blocks.find((b) => new RegExp(`^Id=${unit}\\.service$`, 'm').test(b)) ?? '';
      const loaded = /^DropInPaths=.*http-proxy\.conf/m.test(show);
      const present = wanted.some((w) => w.unit === unit && w.content !== null);
      if (/^LoadState=loaded/m.test(show) && loaded !== present) reload.add(unit);
      if (reload.has(unit) && /^ActiveState=(active|activating|reloading)/m.test(show)) changes.push(commandChange(['systemctl', 'restart', unit]));
    }
    // daemon-reload before the restarts it feeds
    if (reload.size) changes.splice(changes.filter((c) => c.kind === 'file').length, 0, commandChange(['systemctl', 'daemon-reload']));
    return result(changes, view);
  },
  async apply(ctx, changes) {
    const view = await nodeProxyView(ctx);
    const paths = new Set(changes.filter((c) => c.kind === 'file').map((c) => (c.kind === 'file' ? c.path : '')));
    for (const w of await wantedFiles(ctx, view)) {
      if (!paths.has(w.path)) continue;
      if (w.content === null) await ctx.files.remove(w.path);
      else {
        await ctx.files.mkdir(w.path.slice(0, w.path.lastIndexOf('/')));
        await ctx.files.write(w.path, w.content, { mode: w.mode });
      }
    }
    await runCommandChanges(ctx, 'proxy', changes, (argv) => (argv[1] === 'restart' ? `see systemctl status ${argv[2]} and journalctl -u ${argv[2]}` : 'see journalctl -b'), { timeoutMs: 120_000 });
  },
};

function result(changes: Change[], view: ProxyView | undefined): ReturnType<Step['check']> extends Promise<infer R> ? R : never {
  if (changes.length) return { state: 'change', changes };
  if (!view) return { state: 'skip', reason: 'no proxy configured' };
  return { state: 'ok', message: `via ${describeProxy(view).https ?? describeProxy(view).http}; direct: ${view.noProxy.length} entries` };
}

// The proxy as this node sees it: NO_PROXY includes the node's own global addresses.
export async function nodeProxyView(ctx: StepContext): Promise<ProxyView | undefined> {
  if (!ctx.config.agent.proxy) return undefined;
  const r = await ctx.proc.probe('ip', ['-j', 'addr', 'show'], { allowFailure: true });
  let addrs: string[] = [];
  try {
    addrs = globalAddresses(JSON.parse(r.stdout || '[]') as Parameters<typeof globalAddresses>[0]).map((a) => a.ip);
  } catch {
    // no ip(8) output: the node's addresses are simply not added
  }
  return proxyView(ctx.config, addrs, ctx.facts.hostname);
}

async function wantedFiles(ctx: StepContext, view: ProxyView | undefined): Promise<Wanted[]> {
  const secret = Boolean(view && [view.http, view.https].some((u) => u && new URL(u).password));
  const mode = secret ? 0o600 : 0o644;
  const out: Wanted[] = [
    { path: PROXY_FILES.containerd, content: view ? renderProxyDropIn(view, 'containerd') : null, mode: 0o600, unit: 'containerd' },
    { path: PROXY_FILES.kubelet, content: view ? renderProxyDropIn(view, 'kubelet') : null, mode: 0o600, unit: 'kubelet' },
  ];
  if (ctx.facts.family === 'rhel') {
    // dnf.conf is the distribution's file: only the proxy keys of [main] are edited
    const current = await ctx.files.read(PROXY_FILES.dnf);
    const st = await ctx.files.stat(PROXY_FILES.dnf);
    if (view || current !== null) out.push({ path: PROXY_FILES.dnf, content: editIniSection(current ?? '', 'main', dnfProxySettings(view)), mode: secret ? 0o600 : (st?.mode ?? 0o644) });
  } else {
    out.push({ path: PROXY_FILES.apt, content: view ? renderAptProxy(view) : null, mode });
  }
  return out;
}

// What plan, logs and /status show of a file holding proxy credentials.
function masked(text: string): string {
  return maskUrlCredentials(text).replace(/^(proxy_password\s*=).*$/gm, '$1<redacted>');
}
