import { isIP } from 'node:net';

// One IP or CIDR string, read once for every place that needs it (config formats, the
// cluster's pod and service ranges, NO_PROXY).
export type Family = 'ipv4' | 'ipv6';

export function familyOf(ip: string): Family | undefined {
  const v = isIP(ip.replace(/^\[|\]$/g, ''));
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

export interface Cidr {
  text: string;
  family: Family;
  bits: number;
}

export function parseCidr(v: string): Cidr | undefined {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(v.trim());
  if (!m) return undefined;
  const family = familyOf(m[1]);
  const bits = Number(m[2]);
  if (!family || bits > (family === 'ipv4' ? 32 : 128)) return undefined;
  return { text: v.trim(), family, bits };
}
