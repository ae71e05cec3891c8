import { isIP } from 'node:net';
import { splitHostPort } from '../config/formats.js';
import type { LoadedConfig } from '../config/types.js';
import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import type { Proc } from '../host/proc.js';
import { configuredEndpoint, discoverConfigured } from './discover-config.js';
import { kubeletHealthy, kubeletJournal } from './kubelet.js';
import { chooseNodeIP } from './nodeip.js';
import { nodeFamilies } from '../config/networking.js';
import type { CheckLine } from './report.js';
import { lookup } from './https.js';
import os from 'node:os';
import { readNodeStatus } from './nodestatus.js';
import { classifyNotReady } from './notready.js';
import { gatherNotReadyFacts } from './notready-facts.js';

// The runbook's troubleshooting appendix as one read-only pass: every check runs even
// when an earlier one fails, since the point is to see the whole picture at once.
export async function diagnose(config: LoadedConfig, files: Files, proc: Proc): Promise<CheckLine[]> {
  const out: CheckLine[] = [];
  const endpoint = await configuredEndpoint(config).catch(() => '');
  out.push(await addressCheck(config, endpoint, proc));
  out.push(await routeCheck(endpoint, proc));
  const r = await discoverConfigured(config);
  for (const c of r.checks) out.push({ ...c, name: c.name === 'clock' ? 'clock-skew' : c.name });
  // the token is the usual suspect: say explicitly when discovery never got that far
  if (!r.checks.some((c) => c.name === 'token')) out.push({ name: 'token', level: 'skip', message: `not checked: ${r.failure?.name ?? 'an earlier check'} failed` });
  out.push(await clockSyncCheck(proc));
  out.push(await firewallCheck(proc));
  out.push(await swapCheck(files));
  out.push(await serviceCheck(proc, 'containerd'));
  out.push(await kubeletCheck(files, proc));
  out.push(await notReadyCheck(config, files, proc));
  return out;
}

// On a joined node: is the Node Ready, and if not, why, from this node's own state.
async function notReadyCheck(config: LoadedConfig, files: Files, proc: Proc): Promise<CheckLine> {
  if (!(await files.exists(paths.kubeletConf))) return { name: 'node-ready', level: 'skip', message: 'not joined yet' };
  const name = config.join.nodeName ?? os.hostname().toLowerCase();
  const s = await readNodeStatus(files, name).catch((e: Error) => e);
  if (s instanceof Error) return { name: 'node-ready', level: 'fail', message: `cannot read Node "${name}" with the kubelet's credentials: ${s.message}`, hint: '`journalctl -u kubelet -n 50`' };
  if (s.ready) return { name: 'node-ready', level: 'pass', message: `Node "${name}" is Ready` };
  const why = classifyNotReady(await gatherNotReadyFacts(files, proc, s.conditions ?? []));
  if (!why.length) return { name: 'node-ready', level: 'fail', message: `Node "${name}" is not Ready: ${s.reason}`, hint: `on the control plane: \`kubectl describe node ${name}\`` };
  return { name: 'node-ready', level: 'fail', message: `Node "${name}" is not Ready: ${why.map((w) => w.message).join('; ')}`, hint: why.map((w) => w.hint).join('; ') };
}

async function addressCheck(config: LoadedConfig, endpoint: string, proc: Proc): Promise<CheckLine> {
  try {
    const c = await chooseNodeIP(config.agent.nodeIP, endpoint, proc, nodeFamilies(config.agent));
    return c.warning ? { name: 'node-ip', level: 'warn', message: c.warning.message, hint: c.warning.hint } : { name: 'node-ip', level: 'pass', message: `${c.ip} (${c.how})` };
  } catch (e) {
    return { name: 'node-ip', level: 'fail', message: (e as Error).message, hint: 'set nodeIP, check `ip addr`' };
  }
}

async function routeCheck(endpoint: string, proc: Proc): Promise<CheckLine> {
  const host = splitHostPort(endpoint)?.host.replace(/^\[|\]$/g, '') ?? endpoint;
  const addr = isIP(host) ? host : await lookup(host).then((a) => a.address, () => undefined);
  if (!addr) return { name: 'route', level: 'fail', message: `cannot resolve "${host}"`, hint: 'add it to host.hosts or fix DNS' };
  const r = await proc.probe('ip', ['route', 'get', addr], { allowFailure: true });
  if (r.notFound) return { name: 'route', level: 'skip', message: '`ip` (iproute2) is not installed' };
  if (r.exitCode !== 0) return { name: 'route', level: 'fail', message: `no route to ${addr}: ${(r.stderr || r.stdout).trim()}`, hint: '`ip route` and `ip addr`: is the cluster interface up and addressed?' };
  return { name: 'route', level: 'pass', message: r.stdout.split('\n')[0].trim() };
}

async function clockSyncCheck(proc: Proc): Promise<CheckLine> {
  const r = await proc.probe('timedatectl', ['show', '-p', 'NTPSynchronized', '-p', 'NTP', '--value'], { allowFailure: true });
  if (r.notFound || r.exitCode !== 0) return { name: 'clock-sync', level: 'skip', message: 'timedatectl not available (no systemd-timedated)' };
  const [sync, ntp] = r.stdout.trim().split('\n');
  if (sync === 'yes') return { name: 'clock-sync', level: 'pass', message: 'system clock synchronized (NTP)' };
  return { name: 'clock-sync', level: 'fail', message: `system clock not synchronized (NTP ${ntp === 'yes' ? 'on, not yet synced' : 'off'})`, hint: '`timedatectl set-ntp true` (host.ntp: true); then `timedatectl timesync-status` or `chronyc tracking`' };
}

async function firewallCheck(proc: Proc): Promise<CheckLine> {
  const fw = await proc.probe('systemctl', ['is-active', 'firewalld'], { allowFailure: true });
  if (fw.stdout.trim() === 'active') {
    const ports = await proc.probe('firewall-cmd', ['--list-ports'], { allowFailure: true });
    const open = ports.stdout.includes('10250/tcp');
    return { name: 'firewall', level: open ? 'pass' : 'fail', message: `firewalld is active${open ? ', 10250/tcp open' : ' and 10250/tcp (kubelet) is not open'}`, hint: 'host.firewall: disable, or open-ports (10250/tcp, the CNI\'s ports)' };
  }
  const ufw = await proc.probe('ufw', ['status'], { allowFailure: true });
  if (/Status: active/.test(ufw.stdout)) return { name: 'firewall', level: 'warn', message: 'ufw is active', hint: '`ufw allow 10250/tcp` and the CNI\'s ports (8472/udp for Flannel VXLAN)' };
  return { name: 'firewall', level: 'pass', message: 'no active local firewall (firewalld, ufw)' };
}

async function swapCheck(files: Files): Promise<CheckLine> {
  const swaps = await files.read('/proc/swaps');
  if (swaps === null) return { name: 'swap', level: 'skip', message: '/proc/swaps not readable' };
  const active = swaps.trim().split('\n').slice(1).filter(Boolean);
  if (active.length === 0) return { name: 'swap', level: 'pass', message: 'no active swap' };
  return { name: 'swap', level: 'fail', message: `swap is on: ${active.map((l) => l.split(/\s+/)[0]).join(', ')}`, hint: '`swapoff -a` and remove it from /etc/fstab (host.swap: disable does both)' };
}

async function serviceCheck(proc: Proc, unit: string): Promise<CheckLine> {
  const r = await proc.probe('systemctl', ['is-active', unit], { allowFailure: true });
  if (r.notFound || /not been booted with systemd|Failed to connect to bus/.test(r.stderr)) return { name: unit, level: 'skip', message: 'systemd is not running here: service state unknown' };
  const state = r.stdout.trim() || 'unknown';
  return state === 'active' ? { name: unit, level: 'pass', message: `${unit} is active` } : { name: unit, level: 'fail', message: `${unit} is ${state}`, hint: `\`systemctl status ${unit}\` and \`journalctl -u ${unit} -n 50\`` };
}

async function kubeletCheck(files: Files, proc: Proc): Promise<CheckLine> {
  const joined = await files.exists(paths.kubeletConf);
  if (await kubeletHealthy()) return { name: 'kubelet', level: 'pass', message: 'kubelet healthy on 127.0.0.1:10248/healthz' };
  if (!joined) return { name: 'kubelet', level: 'skip', message: 'kubelet not healthy, as expected before the join (it restarts until kubeadm join writes its config)' };
  const tail = (await kubeletJournal(proc, 5)).split('\n').join(' | ');
  return { name: 'kubelet', level: 'fail', message: `joined (kubelet.conf present) but kubelet is not healthy on 127.0.0.1:10248/healthz; journal: ${tail}`, hint: '`systemctl status kubelet`, `journalctl -u kubelet -n 50`' };
}
