import type { HostEntry } from '../../config/types.js';
import type { Step, StepContext } from '../../engine/step.js';
import { COMMENT_PREFIX, KEPT_SUFFIX } from '../../host/markers.js';
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

export interface HostsConflict {
  /** 1-based line number in the current file. */
  line: number;
  text: string;
  name: string;
  ip: string;
  wanted: string;
}

// Foreign lines that map a managed name to another address. The files resolver answers
// with the first line naming a host, so such a line above the block wins and the name
// resolves to a stale address (the node joins the wrong control plane, or none).
export function hostsConflicts(current: string, entries: HostEntry[], hostname: string): HostsConflict[] {
  const mapsSelf = mapsHost(entries, hostname);
  const wanted = new Map<string, Set<string>>();
  for (const e of entries) for (const n of e.names) wanted.set(n.toLowerCase(), (wanted.get(n.toLowerCase()) ?? new Set()).add(e.ip));
  const out: HostsConflict[] = [];
  let inBlock = false;
  for (const [i, line] of (current === '' ? [] : current.replace(/\n$/, '').split('\n')).entries()) {
    if (line.trim() === HOSTS_BEGIN) inBlock = true;
    if (inBlock) {
      if (line.trim() === HOSTS_END) inBlock = false;
      continue;
    }
    // dropped anyway (below)
    if (mapsSelf && isLoopbackSelfLine(line, hostname)) continue;
    const [ip, ...names] = line.split('#')[0].trim().split(/\s+/);
    for (const n of names) {
      const want = wanted.get(n.toLowerCase());
      if (want && !want.has(ip)) out.push({ line: i + 1, text: line.trim(), name: n, ip, wanted: [...want].join(', ') });
    }
  }
  return out;
}

function mapsHost(entries: HostEntry[], hostname: string): boolean {
  return entries.some((e) => e.names.some((n) => n === hostname || n.split('.')[0] === hostname.split('.')[0]));
}

// /etc/hosts as it should be: foreign lines kept in place, our block replaced where it
// was (or appended), loopback self lines dropped as above, and foreign lines that map a
// managed name elsewhere commented out (marked, as in fstab), followed by a line with
// the names of theirs that did not conflict.
export function renderHosts(current: string, entries: HostEntry[], hostname: string): string {
  const lines = current === '' ? [] : current.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let blockAt = -1;
  let inBlock = false;
  const mapsSelf = mapsHost(entries, hostname);
  const conflicting = new Map<number, Set<string>>();
  for (const c of hostsConflicts(current, entries, hostname)) conflicting.set(c.line - 1, (conflicting.get(c.line - 1) ?? new Set()).add(c.name));
  for (const [i, line] of lines.entries()) {
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
    const bad = conflicting.get(i);
    if (bad) {
      out.push(COMMENT_PREFIX + line);
      const [ip, ...names] = line.split('#')[0].trim().split(/\s+/);
      const rest = names.filter((n) => !bad.has(n));
      if (rest.length) out.push(`${ip}\t${rest.join(' ')}${KEPT_SUFFIX}`);
      continue;
    }
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
    const before = entries.length ? sourcesBeforeFiles((await ctx.files.read('/etc/nsswitch.conf')) ?? '') : undefined;
    if (before) warnOnce(ctx, `hosts: /etc/nsswitch.conf asks ${before} before files for host names: the names in host.hosts may resolve elsewhere`, 'put files first on the hosts: line of /etc/nsswitch.conf');
    const wanted = renderHosts(current, entries, ctx.facts.hostname);
    if (wanted === current) return { state: 'ok', message: entries.length ? `${entries.length} entries in the managed block` : 'no host entries configured' };
    await warnCloudInit(ctx);
    for (const c of hostsConflicts(current, entries, ctx.facts.hostname)) {
      warnOnce(ctx, `hosts: ${paths.hosts} line ${c.line} "${c.text}" maps ${c.name} to ${c.ip}, not to ${c.wanted} (host.hosts): joinagent comments it out (the original file is kept in its backups)`, `if ${c.ip} is right, fix host.hosts instead`);
    }
    const c = await fileChange(ctx, paths.hosts, wanted);
    return c ? { state: 'change', changes: [c] } : { state: 'ok' };
  },
  async apply(ctx, changes) {
    await writeFileChanges(ctx, changes);
  },
};

// The sources nsswitch.conf asks before `files` for host names ("dns" in "hosts: dns
// files"): they answer first, so the managed block does not decide what a name resolves to.
export function sourcesBeforeFiles(nsswitch: string): string | undefined {
  const line = /^hosts:\s*(.*)$/m.exec(nsswitch)?.[1];
  if (!line) return undefined;
  const sources = line.replace(/\[[^\]]*\]/g, ' ').trim().split(/\s+/);
  const i = sources.indexOf('files');
  return i > 0 ? sources.slice(0, i).join(' ') : undefined;
}

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
