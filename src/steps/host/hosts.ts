import type { HostEntry } from '../../config/types.js';
import type { Step, StepContext } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { fileChange, warnOnce, writeFileChanges } from './file-change.js';

export const HOSTS_BEGIN = '# BEGIN joinagent managed block';
export const HOSTS_END = '# END joinagent managed block';

// The managed block: one line per configured entry, between markers, so a re-run
// replaces it instead of appending duplicates (the runbook's `>>` does).
export function hostsBlock(entries: HostEntry[]): string {
  if (entries.length === 0) return '';
  return [HOSTS_BEGIN, ...entries.map((e) => `${e.ip}\t${e.names.join(' ')}`), HOSTS_END].join('\n') + '\n';
}

// Debian and cloud images map the host's own name to 127.0.1.1 (or 127.0.2.1); kubelet
// and kubeadm then resolve the node to loopback. Only such lines that name this host
// are dropped, and only when the managed block maps the name to a real address: without
// a replacement the host could no longer resolve its own name (sudo, hostname -f).
function isLoopbackSelfLine(line: string, hostname: string): boolean {
  const f = line.trim().split('#')[0].trim().split(/\s+/);
  if (f[0] !== '127.0.1.1' && f[0] !== '127.0.2.1') return false;
  const short = hostname.split('.')[0];
  return f.slice(1).some((n) => n === hostname || n.split('.')[0] === short);
}

// /etc/hosts as it should be: foreign lines kept in place, our block replaced where it
// was (or appended), loopback self lines dropped as above.
export function renderHosts(current: string, entries: HostEntry[], hostname: string): string {
  const lines = current === '' ? [] : current.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let blockAt = -1;
  let inBlock = false;
  const mapsSelf = entries.some((e) => e.names.some((n) => n === hostname || n.split('.')[0] === hostname.split('.')[0]));
  for (const line of lines) {
    if (line.trim() === HOSTS_BEGIN) {
      inBlock = true;
      if (blockAt < 0) blockAt = out.length;
      continue;
    }
    if (inBlock) {
      if (line.trim() === HOSTS_END) inBlock = false;
      continue;
    }
    if (mapsSelf && isLoopbackSelfLine(line, hostname)) continue;
    out.push(line);
  }
  const block = hostsBlock(entries).replace(/\n$/, '');
  if (block) {
    if (blockAt < 0) out.push(block);
    else out.splice(blockAt, 0, block);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

// cloud-init files that make it rewrite /etc/hosts at every boot.
export function manageEtcHosts(text: string): string | null {
  const m = /^manage_etc_hosts\s*:\s*['"]?(true|template|localhost)['"]?\s*(#.*)?$/im.exec(text);
  return m ? m[1].toLowerCase() : null;
}

// hosts: a managed block with the configured names.
export const hostsStep: Step = {
  id: 'hosts',
  title: '/etc/hosts: cluster names',
  phase: 'host',
  async check(ctx) {
    const entries = ctx.config.agent.host.hosts;
    const current = (await ctx.files.read(paths.hosts)) ?? '';
    const wanted = renderHosts(current, entries, ctx.facts.hostname);
    if (wanted === current) return { state: 'ok', message: entries.length ? `${entries.length} entries in the managed block` : 'no host entries configured' };
    await warnCloudInit(ctx);
    const c = await fileChange(ctx, paths.hosts, wanted);
    return c ? { state: 'change', changes: [c] } : { state: 'ok' };
  },
  async apply(ctx, changes) {
    await writeFileChanges(ctx, changes);
  },
};

// The warning comes with a change: a converged host where cloud-init keeps the block
// intact (manage_etc_hosts: localhost) needs no noise.
async function warnCloudInit(ctx: StepContext): Promise<void> {
  const files = ['/etc/cloud/cloud.cfg', ...(await ctx.files.list('/etc/cloud/cloud.cfg.d')).filter((n) => n.endsWith('.cfg')).map((n) => `/etc/cloud/cloud.cfg.d/${n}`)];
  for (const f of files) {
    const mode = manageEtcHosts((await ctx.files.read(f)) ?? '');
    if (mode === 'true' || mode === 'template') {
      warnOnce(ctx, `hosts: ${f} sets manage_etc_hosts: ${mode}: cloud-init rewrites /etc/hosts from its template at every boot and drops the joinagent block`, `set manage_etc_hosts: false in ${f} (or add the entries to /etc/cloud/templates/hosts.*.tmpl)`);
    }
  }
}
