import { promises as fs } from 'node:fs';
import { registerSecret } from '../host/redact.js';
import { localRepoDir } from './formats.js';
import type { AgentConfig, ProxyConfig, RegistrySettings } from './types.js';
import { report, type WalkContext } from './walk.js';

// Cross-field checks of the sections for sites without a clean route to the internet
// (proxy, registries). Secrets found here (proxy and registry passwords, tokens) are
// registered with redact() the moment they are read, and never quoted in a message.
export async function checkSites(ctx: WalkContext, raw: Record<string, unknown>, agent: AgentConfig, configMode: number): Promise<void> {
  for (const r of ['kubernetes', 'docker'] as const) {
    const dir = localRepoDir(agent.repositories[r]?.url);
    if (!dir) continue;
    const st = await fs.stat(dir).catch(() => null);
    if (!st?.isDirectory()) report(ctx, `repositories.${r}.url`, ctx.nodes.get(`repositories.${r}.url`), `${dir} is not a directory on this host (unpack the bundle there, or fix the path)`);
  }
  const proxy = raw.proxy as Partial<ProxyConfig> | undefined;
  if (proxy) checkProxy(ctx, proxy, agent);
  const regs = (raw.registries ?? {}) as Record<string, Partial<RegistrySettings> | undefined>;
  for (const [host, r] of Object.entries(regs)) {
    if (r) agent.registries[host] = await checkRegistry(ctx, `registries.${host}`, r, configMode);
  }
}

function checkProxy(ctx: WalkContext, p: Partial<ProxyConfig>, agent: AgentConfig): void {
  if (!p.http && !p.https) {
    report(ctx, 'proxy', ctx.keys?.get('proxy') ?? ctx.nodes.get('proxy'), 'proxy needs http and/or https (e.g. http: http://proxy.example:3128); remove the section for no proxy');
    return;
  }
  for (const url of [p.http, p.https]) {
    if (!url) continue;
    const u = new URL(url);
    if (u.password) {
      registerSecret(u.password);
      registerSecret(decodeURIComponent(u.password));
    }
  }
  agent.proxy = { http: p.http, https: p.https, noProxy: (p.noProxy ?? []).filter(Boolean), clusterCIDRs: (p.clusterCIDRs ?? []).filter(Boolean) };
}

async function checkRegistry(ctx: WalkContext, base: string, r: Partial<RegistrySettings>, configMode: number): Promise<RegistrySettings> {
  const at = (f: string) => ctx.nodes.get(`${base}.${f}`) ?? ctx.keys?.get(base);
  const out: RegistrySettings = { ca: r.ca, clientCert: r.clientCert, clientKey: r.clientKey, username: r.username, skipVerify: r.skipVerify === true };
  if (r.clientCert && !r.clientKey) report(ctx, `${base}.clientCert`, at('clientCert'), 'clientCert needs clientKey (the private key of the client certificate)');
  if (r.clientKey && !r.clientCert) report(ctx, `${base}.clientKey`, at('clientKey'), 'clientKey needs clientCert');
  if (r.password !== undefined && r.passwordFile) report(ctx, `${base}.password`, at('password'), 'password is given both inline and in passwordFile: keep one');
  if (r.token !== undefined && r.tokenFile) report(ctx, `${base}.token`, at('token'), 'token is given both inline and in tokenFile: keep one');
  const hasPassword = r.password !== undefined || Boolean(r.passwordFile);
  const hasToken = r.token !== undefined || Boolean(r.tokenFile);
  if (r.username && !hasPassword) report(ctx, `${base}.username`, at('username'), 'username needs password or passwordFile');
  if (hasPassword && !r.username) report(ctx, `${base}.${r.passwordFile ? 'passwordFile' : 'password'}`, at(r.passwordFile ? 'passwordFile' : 'password'), 'a password needs username');
  if (hasToken && (r.username || hasPassword)) report(ctx, `${base}.token`, at(r.tokenFile ? 'tokenFile' : 'token'), 'use either token or username/password, not both');
  for (const f of ['ca', 'clientCert', 'clientKey'] as const) {
    const p = r[f];
    if (!p) continue;
    const st = await statFile(p);
    if (typeof st === 'string') report(ctx, `${base}.${f}`, at(f), st);
    else if (f === 'clientKey' && (st.mode & 0o077) !== 0) report(ctx, `${base}.clientKey`, at(f), `the private key ${p} is readable by group/others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${p}`, 'warning');
  }
  for (const [inline, file, key] of [['password', 'passwordFile', 'password'], ['token', 'tokenFile', 'token']] as const) {
    if (r[inline] !== undefined) {
      out[key] = String(r[inline]);
      registerSecret(out[key]);
      if ((configMode & 0o077) !== 0) report(ctx, `${base}.${inline}`, at(inline), `the file holds a registry ${inline} and is readable by group/others (mode ${(configMode & 0o777).toString(8)}): chmod 600 it, or use ${file}`, 'warning');
    } else if (r[file]) {
      const v = await readSecretFile(r[file]!, inline);
      if (v.error !== undefined || v.value === undefined) report(ctx, `${base}.${file}`, at(file), v.error ?? 'unreadable');
      else {
        out[key] = v.value;
        out[file] = r[file];
        registerSecret(v.value);
      }
    }
  }
  if (out.skipVerify) {
    report(ctx, `${base}.skipVerify`, at('skipVerify'), `containerd will not verify the TLS certificate of ${base.slice('registries.'.length)}: anyone on the path can serve other images; give its CA with ca: instead`, 'warning');
  }
  return out;
}

async function statFile(p: string): Promise<{ mode: number } | string> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) return `${p} is not a regular file`;
    await fs.access(p, fs.constants.R_OK);
    return { mode: st.mode };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `${p}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code}`;
  }
}

// A password or token file: one line, its content never shown.
async function readSecretFile(p: string, what: string): Promise<{ value?: string; error?: string }> {
  const st = await statFile(p);
  if (typeof st === 'string') return { error: st };
  if ((st.mode & 0o077) !== 0) return { error: `${p} holds a registry ${what} and is readable by group/others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${p}` };
  const text = (await fs.readFile(p, 'utf8')).replace(/\r?\n$/, '');
  if (text === '') return { error: `${p} is empty: it must hold the registry ${what}` };
  if (text.includes('\n')) return { error: `${p} has more than one line: it must hold only the registry ${what} (content not shown)` };
  return { value: text };
}
