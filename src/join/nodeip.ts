import { isIP } from 'node:net';
import { splitHostPort } from '../config/formats.js';
import type { Proc } from '../host/proc.js';
import { lookup } from './https.js';

// nodeIP: auto | interface:NAME | a literal IP. `auto` takes the source address the
// kernel would use toward the API server (`ip route get`), which on the runbook's
// Vagrant VMs is the 192.168.10.x host-only address rather than the NAT 10.0.2.15 that
// kubelet would otherwise pick from the default route.
export interface NodeIPChoice {
  ip: string;
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
  addr_info?: { family?: string; local?: string; scope?: string }[];
}

// VirtualBox NAT gives every guest this same address, reachable by no other node.
export const VIRTUALBOX_NAT_IP = '10.0.2.15';

export async function chooseNodeIP(spec: string, endpoint: string, proc: Proc): Promise<NodeIPChoice> {
  if (isIP(spec)) return { ip: spec, how: 'configured' };
  if (spec.startsWith('interface:')) {
    const dev = spec.slice('interface:'.length);
    const r = await proc.probe('ip', ['-j', 'addr', 'show', 'dev', dev], { allowFailure: true });
    if (r.exitCode !== 0) throw new Error(`nodeIP: interface "${dev}" does not exist on this host (ip addr show dev ${dev}: ${(r.stderr || r.stdout).trim()})`);
    const ip = globalAddresses(parseJson<AddrJson[]>(r.stdout) ?? [])[0]?.ip;
    if (!ip) throw new Error(`nodeIP: interface "${dev}" has no global address (ip addr show dev ${dev})`);
    return withNatWarning({ ip, how: `address of ${dev}`, dev }, await defaultRoute(proc));
  }
  const hp = splitHostPort(endpoint);
  if (!hp) throw new Error(`nodeIP auto: apiServerEndpoint "${endpoint}" is not host:port`);
  const host = hp.host.replace(/^\[|\]$/g, '');
  const addr = isIP(host) ? host : (await lookup(host)).address;
  const r = await proc.probe('ip', ['-j', 'route', 'get', addr], { allowFailure: true });
  const route = parseJson<RouteJson[]>(r.stdout)?.[0];
  if (r.exitCode !== 0 || !route?.prefsrc) throw new Error(`nodeIP auto: no route from this host to the API server ${addr} (ip route get ${addr}: ${(r.stderr || r.stdout).trim() || 'no source address'}); set nodeIP to this node's cluster address`);
  const choice: NodeIPChoice = { ip: route.prefsrc, how: `source address of the route to ${addr} via ${route.dev ?? '?'}`, dev: route.dev };
  const def = await defaultRoute(proc);
  const withNat = withNatWarning(choice, def);
  if (withNat.warning || !route.gateway) return withNat;
  // the API server is reached through a gateway: if other interfaces carry addresses,
  // the cluster network may be one of them and this one a NAT uplink
  const all = await proc.probe('ip', ['-j', 'addr', 'show'], { allowFailure: true });
  const others = globalAddresses(parseJson<AddrJson[]>(all.stdout) ?? []).filter((a) => a.dev !== route.dev);
  if (others.length) {
    choice.warning = {
      message: `node IP ${choice.ip} (${route.dev}) reaches the API server only through the gateway ${route.gateway}; other nodes may not reach it if ${route.dev} is a NAT interface`,
      hint: `if the cluster network is on another interface, set nodeIP to one of ${others.map((o) => `${o.ip} (${o.dev})`).join(', ')} or interface:NAME`,
    };
  }
  return choice;
}

// Pure: the NAT verdict for a chosen address, given the default route.
export function withNatWarning(choice: NodeIPChoice, def: RouteJson | undefined): NodeIPChoice {
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

async function defaultRoute(proc: Proc): Promise<RouteJson | undefined> {
  const r = await proc.probe('ip', ['-j', 'route', 'show', 'default'], { allowFailure: true });
  return parseJson<RouteJson[]>(r.stdout)?.[0];
}

export function globalAddresses(links: AddrJson[]): { ip: string; dev: string }[] {
  const out: { ip: string; dev: string }[] = [];
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
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
