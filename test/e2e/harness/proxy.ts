import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { onCleanup } from './cleanup.js';
import { sh, waitFor } from './sh.js';

export interface SiteProxy {
  /** http://user:password@host:port */
  url: string;
  user: string;
  password: string;
  /** squid's access log: one line per request, with the user it authenticated */
  accessLog(): Promise<string>;
  close(): Promise<void>;
}

// A real forward proxy (Debian's squid) on the node's link: basic auth (htpasswd), names
// that only it resolves (its own hosts_file: the node cannot resolve them, so any direct
// attempt fails), and no destination but the ones listed, so nothing that asks it for
// another host (containerd's fallback to registry.k8s.io) leaves this machine.
export async function startSquid(o: { host: string; port: number; names: Record<string, string>; user: string; password: string }): Promise<SiteProxy> {
  const dir = await fs.mkdtemp('/var/tmp/ja-e2e-squid-');
  await sh('htpasswd', ['-bc', path.join(dir, 'passwd'), o.user, o.password]);
  await fs.writeFile(path.join(dir, 'hosts'), Object.entries(o.names).map(([n, ip]) => `${ip} ${n}`).join('\n') + '\n');
  const ips = [...new Set(Object.values(o.names))];
  await fs.writeFile(
    path.join(dir, 'squid.conf'),
    [
      `http_port ${o.host}:${o.port}`,
      `pid_filename ${dir}/squid.pid`,
      `cache_log ${dir}/cache.log`,
      `access_log stdio:${dir}/access.log`,
      'cache deny all',
      'cache_mem 8 MB',
      'pinger_enable off',
      'shutdown_lifetime 0 seconds',
      `hosts_file ${dir}/hosts`,
      // names outside hosts_file are not looked up anywhere but this dead loopback port
      'dns_nameservers 127.0.0.1',
      `coredump_dir ${dir}`,
      `auth_param basic program /usr/lib/squid/basic_ncsa_auth ${dir}/passwd`,
      'auth_param basic realm joinagent-e2e',
      `acl sites dstdomain ${Object.keys(o.names).join(' ')}`,
      `acl site_ips dst ${ips.join(' ')}`,
      'acl authed proxy_auth REQUIRED',
      'http_access deny !sites !site_ips',
      'http_access allow authed',
      'http_access deny all',
      '',
    ].join('\n'),
  );
  await sh('chown', ['-R', 'proxy:proxy', dir]);
  const child = spawn('squid', ['-N', '-f', path.join(dir, 'squid.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const close = async (): Promise<void> => {
    undo();
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  const undo = onCleanup(`squid on ${o.host}:${o.port}`, close);
  await waitFor(`squid listening on ${o.host}:${o.port}`, async () => {
    if (child.exitCode !== null) throw Object.assign(new Error(`squid exited ${child.exitCode}: ${stderr}${await fs.readFile(path.join(dir, 'cache.log'), 'utf8').catch(() => '')}`), { fatal: true });
    const log = existsSync(path.join(dir, 'cache.log')) ? await fs.readFile(path.join(dir, 'cache.log'), 'utf8') : '';
    return /Accepting HTTP Socket connections/.test(log) ? true : undefined;
  }, 20_000, 200);
  return {
    url: `http://${o.user}:${o.password}@${o.host}:${o.port}`,
    user: o.user,
    password: o.password,
    accessLog: () => fs.readFile(path.join(dir, 'access.log'), 'utf8').catch(() => ''),
    close,
  };
}
