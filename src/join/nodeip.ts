import { isIP } from 'node:net';
import { splitHostPort } from '../config/formats.js';
import { familyOf, literalNodeIPs, type Family } from '../config/networking.js';
import type { Proc } from '../host/proc.js';
import { lookup } from './https.js';

// nodeIP: auto | interface:NAME | one literal IP | "IPv4,IPv6". `auto` takes the source
// address the kernel would use toward the API server (`ip route get`), which on the
// runbook's Vagrant VMs is the 192.168.10.x host-only address rather than the NAT
// 10.0.2.15 that kubelet would otherwise pick from the default route. A dual-stack
// cluster needs one address per family (kubelet's --node-ip=IPv4,IPv6, primary first):
// the family the API server is not reached over takes the same interface's address.
export interface NodeIPChoice {
  /** kubelet's --node-ip value: one address, or two joined by a comma (primary first). */
  ip: string;
  ips: string[];
  how: string;
  dev?: string;
  warning?: { message: string; hint: string };
}

interface RouteJson {
  dst?: string;
  dev?: string;
  prefsrc?: string;
  gateway?: string;
}
interface AddrJson {
  ifname?: string;
  addr_info?: { family?: string; local?: string; scope?: string; temporary?: boolean; deprecated?: boolean; tentative?: boolean; dadfailed?: boolean }[];
}

// VirtualBox NAT gives every guest this same address, reachable by no other node.
export const VIRTUALBOX_NAT_IP = '10.0.2.15';
const NAME: Record<Family, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };

// `families` = what the cluster needs, primary first (networking.ts nodeFamilies);
// undefined = the API endpoint's family only (a single-stack cluster).
export async function chooseNodeIP(spec: string, endpoint: string, proc: Proc, families?: Family[]): Promise<NodeIPChoice> {
  const literal = literalNodeIPs(spec);
  if (literal.length) return withFamilies({ ip: literal.join(','), ips: literal, how: 'configured' }, families);
  if (spec.startsWith('interface:')) return fromInterface(spec.slice('interface:'.length), proc, families);
  const hp = splitHostPort(endpoint);
  if (!hp) throw new Error(`nodeIP auto: apiServerEndpoint "${endpoint}" is not host:port`);
  const host = hp.host.replace(/^\[|\]$/g, '');
  const primary = isIP(host) ? host : (await lookup(host)).address;
  const want = families ?? [familyOf(primary)!];
  const byFamily = new Map<Family, { ip: string; how: string; dev?: string }>();
  const route = await routeTo(primary, proc);
  for (const f of want) {
    // a name may resolve in both families: then each family takes its own route to it
    const addr = familyOf(primary) === f ? primary : isIP(host) ? undefined : await lookupFamily(host, f);
    if (!addr) continue;
    const r = addr === primary ? route : await routeTo(addr, proc);
    byFamily.set(f, { ip: r.prefsrc!, how: `source address of the route to ${addr} via ${r.dev ?? '?'}`, dev: r.dev });
  }
  const missing = want.filter((f) => !byFamily.has(f));
  if (missing.length) {
    const links = parseJson<AddrJson[]>((await proc.probe('ip', ['-j', 'addr', 'show'], { allowFailure: true })).stdout) ?? [];
    const def6 = await defaultRoute(proc, '-6');
    const def4 = await defaultRoute(proc, '-4');
    for (const f of missing) byFamily.set(f, otherFamily(f, links, route.dev, f === 'ipv6' ? def6 : def4, endpoint));
  }
  const ips = want.map((f) => byFamily.get(f)!.ip);
  const first = byFamily.get(want[0])!;
  const how = want.length === 1 ? first.how : want.map((f) => `${NAME[f]}: ${byFamily.get(f)!.how}`).join('; ');
  const choice: NodeIPChoice = { ip: ips.join(','), ips, how, dev: route.dev ?? first.dev };
  const v4 = byFamily.get('ipv4');
  const withNat = v4 ? withNatWarning({ ...choice, ip: v4.ip, dev: v4.dev }, await defaultRoute(proc, '-4')) : choice;
  if (withNat.warning) return { ...choice, warning: withNat.warning };
  if (!route.gateway) return choice;
  // the API server is reached through a gateway: if other interfaces carry addresses,
  // the cluster network may be one of them and this one a NAT uplink
  const all = await proc.probe('ip', ['-j', 'addr', 'show'], { allowFailure: true });
  const others = globalAddresses(parseJson<AddrJson[]>(all.stdout) ?? []).filter((a) => a.dev !== route.dev);
  if (others.length) {
    choice.warning = {
      message: `node IP ${ips[0]} (${route.dev}) reaches the API server only through the gateway ${route.gateway}; other nodes may not reach it if ${route.dev} is a NAT interface`,
      hint: `if the cluster network is on another interface, set nodeIP to one of ${others.map((o) => `${o.ip} (${o.dev})`).join(', ')} or interface:NAME`,
    };
  }
  return choice;
}

async function routeTo(addr: string, proc: Proc): Promise<RouteJson> {
  const r = await proc.probe('ip', ['-j', 'route', 'get', addr], { allowFailure: true });
  const route = parseJson<RouteJson[]>(r.stdout)?.[0];
  if (r.exitCode !== 0 || !route?.prefsrc) throw new Error(`nodeIP auto: no route from this host to the API server ${addr} (ip route get ${addr}: ${(r.stderr || r.stdout).trim() || 'no source address'}); set nodeIP to this node's cluster address`);
  return route;
}

// The address of a family the API server is not reached over: the same interface's,
// else the one carrying that family's default route, else the only one there is.
function otherFamily(f: Family, links: AddrJson[], dev: string | undefined, def: RouteJson | undefined, endpoint: string): { ip: string; how: string; dev?: string } {
  const all = globalAddresses(links).filter((a) => familyOf(a.ip) === f);
  const same = all.find((a) => a.dev === dev);
  if (same) return { ...same, how: `${NAME[f]} address of ${same.dev}, the interface toward the API server` };
  const viaDefault = all.find((a) => a.dev === def?.dev);
  if (viaDefault) return { ...viaDefault, how: `${NAME[f]} address of ${viaDefault.dev} (its ${NAME[f]} default route)` };
  if (all.length === 1) return { ...all[0], how: `the only global ${NAME[f]} address (${all[0].dev})` };
  if (all.length === 0) throw new Error(`nodeIP auto: the cluster is ${NAME[f]}-capable (networking) but this host has no global ${NAME[f]} address; the API server ${endpoint} is reached over the other family`);
  throw new Error(`nodeIP auto: several ${NAME[f]} addresses (${all.map((a) => `${a.ip} on ${a.dev}`).join(', ')}) and none on the interface toward the API server (${dev ?? '?'})`);
}

async function fromInterface(dev: string, proc: Proc, families: Family[] | undefined): Promise<NodeIPChoice> {
  const r = await proc.probe('ip', ['-j', 'addr', 'show', 'dev', dev], { allowFailure: true });
  if (r.exitCode !== 0) throw new Error(`nodeIP: interface "${dev}" does not exist on this host (ip addr show dev ${dev}: ${(r.stderr || r.stdout).trim()})`);
  const addrs = globalAddresses(parseJson<AddrJson[]>(r.stdout) ?? []);
  const want = families ?? (addrs[0] ? [familyOf(addrs[0].ip)!] : ['ipv4' as Family]);
  const ips: string[] = [];
  for (const f of want) {
    const a = addrs.find((x) => familyOf(x.ip) === f);
    if (!a) throw new Error(`nodeIP: interface "${dev}" has no global ${NAME[f]} address${want.length > 1 ? ' (the cluster is dual-stack: one address per family)' : ''} (ip addr show dev ${dev})`);
    ips.push(a.ip);
  }
  const choice: NodeIPChoice = { ip: ips.join(','), ips, how: `address${ips.length > 1 ? 'es' : ''} of ${dev}`, dev };
  const v4 = ips.find((ip) => familyOf(ip) === 'ipv4');
  const nat = v4 ? withNatWarning({ ...choice, ip: v4 }, await defaultRoute(proc, '-4')) : choice;
  return nat.warning ? { ...choice, warning: nat.warning } : choice;
}

// A literal nodeIP covering fewer families than the cluster has: kubelet registers only those.
function withFamilies(choice: NodeIPChoice, families: Family[] | undefined): NodeIPChoice {
  const missing = (families ?? []).filter((f) => !choice.ips.some((ip) => familyOf(ip) === f));
  if (!missing.length) return choice;
  return { ...choice, warning: { message: `nodeIP ${choice.ip} has no ${missing.map((f) => NAME[f]).join('/')} address, but the cluster is dual-stack (networking): the Node will report none`, hint: 'give one address per family (nodeIP: "IPv4,IPv6") or nodeIP: auto' } };
}

// Pure: the NAT verdict for a chosen address, given the default route.
export function withNatWarning<T extends { ip: string; dev?: string }>(choice: T, def: RouteJson | undefined): T & { warning?: NodeIPChoice['warning'] } {
  const natLike = choice.ip === VIRTUALBOX_NAT_IP || (def?.gateway === '10.0.2.2' && def.dev === choice.dev && choice.ip.startsWith('10.0.2.'));
  if (!natLike) return choice;
  return {
    ...choice,
    warning: {
      message: `node IP ${choice.ip} looks like a VirtualBox NAT address (every NAT guest has 10.0.2.15): other nodes cannot reach this node there`,
      hint: 'set nodeIP to the host-only/cluster address (e.g. interface:enp0s9 or 192.168.10.101), as the runbook does',
    },
  };
}

async function defaultRoute(proc: Proc, family?: '-4' | '-6'): Promise<RouteJson | undefined> {
  const r = await proc.probe('ip', [...(family === '-6' ? ['-6'] : []), '-j', 'route', 'show', 'default'], { allowFailure: true });
  return parseJson<RouteJson[]>(r.stdout)?.[0];
}

async function lookupFamily(host: string, f: Family): Promise<string | undefined> {
  return process.getBuiltinModule('node:dns/promises').lookup(host, { family: f === 'ipv4' ? 4 : 6 }).then((a) => a.address, () => undefined);
}

// Global, usable addresses: not a privacy (temporary) address that rotates, not one
// being retired or still in duplicate address detection.
export function globalAddresses(links: AddrJson[]): { ip: string; dev: string }[] {
  const out: { ip: string; dev: string }[] = [];
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      if (a.temporary || a.deprecated || a.tentative || a.dadfailed) continue;
      if (a.local && a.scope === 'global' && (a.family === 'inet' || a.family === 'inet6')) out.push({ ip: a.local, dev: l.ifname ?? '?' });
    }
  }
  // IPv4 first: kubelet's node-ip for a single-stack IPv4 cluster
  return out.sort((x, y) => Number(x.ip.includes(':')) - Number(y.ip.includes(':')));
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
