import { promises as fs } from 'node:fs';
import path from 'node:path';
import { linkFor } from './paths.js';
import { sh, waitFor } from './sh.js';

export type Link = ReturnType<typeof linkFor>;

/** The node link's families: IPv4 only (the default), IPv6 only, or both. */
export type LinkFamily = 'ipv4' | 'ipv6' | 'dual';
export const hasV4 = (f: LinkFamily): boolean => f !== 'ipv6';
export const hasV6 = (f: LinkFamily): boolean => f !== 'ipv4';

// IPv6 without router advertisements: the host end of the veth answers as fe80::1 and is
// the node's next hop to the services' address (Linux answers neighbour solicitations
// only for addresses on the receiving interface, unlike ARP, so the services' address on
// the other interface is reached through a route, as through a real router).
const GATEWAY6 = 'fe80::1';

// The node's only network. nspawn's --network-veth gives the node a private network
// namespace (so net.* sysctls are its own and writable) and a veth whose host end
// (ve-jaeN) lives only while the node runs. The services' address (linkFor().host) sits on a
// host-only interface that outlives reboots, so the repository, registry and control plane
// can listen before the first boot (cloud-init) and keep listening across reboots.
// No default route in the node: it reaches what the harness serves on .1, nothing else.
export async function createServiceAddress(slot: number): Promise<Link> {
  const l = linkFor(slot);
  await deleteLink(slot);
  // this kernel has no dummy driver: a veth pair kept entirely on the host side does the same
  await sh('ip', ['link', 'add', l.serviceIf, 'type', 'veth', 'peer', 'name', `${l.serviceIf}p`]);
  await sh('ip', ['addr', 'add', `${l.host}/32`, 'dev', l.serviceIf]);
  // nodad: usable at once (duplicate address detection would hold it "tentative" ~1 s)
  await sh('ip', ['-6', 'addr', 'add', `${l.host6}/128`, 'dev', l.serviceIf, 'nodad']);
  await sh('ip', ['link', 'set', `${l.serviceIf}p`, 'up']);
  await sh('ip', ['link', 'set', l.serviceIf, 'up']);
  return l;
}

// Once nspawn made the veth: bring the host end up with a host route to the node.
export async function attachNode(slot: number, isRunning: () => boolean, family: LinkFamily = 'ipv4'): Promise<void> {
  const l = linkFor(slot);
  await waitFor(`nspawn to create ${l.hostIf}`, async () => {
    if (!isRunning()) throw Object.assign(new Error('systemd-nspawn exited'), { fatal: true });
    return (await sh('ip', ['link', 'show', l.hostIf], { allowFailure: true })).exitCode === 0 ? true : undefined;
  }, 30_000, 100);
  await sh('ip', ['link', 'set', l.hostIf, 'up']);
  if (hasV4(family)) await sh('ip', ['route', 'replace', `${l.node}/32`, 'dev', l.hostIf, 'src', l.host]);
  if (hasV6(family)) {
    await sh('ip', ['-6', 'addr', 'add', `${GATEWAY6}/64`, 'dev', l.hostIf, 'nodad']);
    await sh('ip', ['-6', 'route', 'replace', `${l.node6}/128`, 'dev', l.hostIf, 'src', l.host6]);
  }
}

// Idempotent: the veth goes with its node; the service interface and the firewall table here.
export async function deleteLink(slot: number): Promise<void> {
  const l = linkFor(slot);
  await dropPort(slot, false);
  await blockFromNode(slot, []);
  await sh('ip', ['link', 'del', l.hostIf], { allowFailure: true });
  await sh('ip', ['link', 'del', l.serviceIf], { allowFailure: true });
}

// Static addressing inside the node by its own networkd (before Debian's DHCP default
// for host0), so network-online.target means what it means on a real host.
export async function configureNodeNetwork(root: string, slot: number, family: LinkFamily = 'ipv4'): Promise<void> {
  const l = linkFor(slot);
  await fs.mkdir(path.join(root, 'etc/systemd/network'), { recursive: true });
  const v4 = hasV4(family) ? `Address=${l.node}/30\n` : '';
  // IPv6: the node's address alone (/128: nothing else is on-link) and a route to the
  // services' address through the host end (fe80::1), which needs the link-local address
  const v6 = hasV6(family) ? `\n[Address]\nAddress=${l.node6}/128\nDuplicateAddressDetection=none\n\n[Route]\nDestination=${l.host6}/128\nGateway=${GATEWAY6}\n` : '';
  const network = `[Match]\nName=${l.nodeIf}\n\n[Network]\n${v4}LinkLocalAddressing=${hasV6(family) ? 'ipv6' : 'no'}\nIPv6AcceptRA=no\n${v6}`;
  await fs.writeFile(path.join(root, 'etc/systemd/network/10-joinagent-e2e.network'), network);
  await sh('systemctl', [`--root=${root}`, 'enable', '--quiet', 'systemd-networkd.service', 'systemd-networkd-wait-online.service']);
}

// Scenario 5's firewall: drop (not reject) TCP to a port arriving from the node on its
// veth, like firewalld's default zone; a netdev ingress table touches only this link.
export async function dropPort(slot: number, on: boolean, port = 6443): Promise<void> {
  const l = linkFor(slot);
  const table = `ja_e2e_${l.slot}`;
  await sh('nft', ['delete', 'table', 'netdev', table], { allowFailure: true });
  if (!on) return;
  await sh('nft', ['-f', '-'], {
    input: `table netdev ${table} {\n  chain ingress {\n    type filter hook ingress device "${l.hostIf}" priority 0; policy accept;\n    ip daddr ${l.host} tcp dport ${port} drop\n  }\n}\n`,
  });
}

// Sites without a direct route: the node's packets to these TCP ports of the services'
// address are dropped on its veth, so the repository and registry are reachable only
// through a proxy on the same host (the proxy connects locally, not through the veth),
// or not at all (air-gapped). [] lifts it.
export async function blockFromNode(slot: number, ports: number[]): Promise<void> {
  const l = linkFor(slot);
  const table = `ja_e2e_block_${l.slot}`;
  await sh('nft', ['delete', 'table', 'netdev', table], { allowFailure: true });
  if (!ports.length) return;
  await sh('nft', ['-f', '-'], {
    input: `table netdev ${table} {\n  chain ingress {\n    type filter hook ingress device "${l.hostIf}" priority 0; policy accept;\n    ip daddr ${l.host} tcp dport { ${ports.join(', ')} } drop\n  }\n}\n`,
  });
}
