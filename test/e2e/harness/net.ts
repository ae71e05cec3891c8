import { promises as fs } from 'node:fs';
import path from 'node:path';
import { linkFor } from './paths.js';
import { sh, waitFor } from './sh.js';

export type Link = ReturnType<typeof linkFor>;

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
  await sh('ip', ['link', 'set', `${l.serviceIf}p`, 'up']);
  await sh('ip', ['link', 'set', l.serviceIf, 'up']);
  return l;
}

// Once nspawn made the veth: bring the host end up with a host route to the node.
export async function attachNode(slot: number, isRunning: () => boolean): Promise<void> {
  const l = linkFor(slot);
  await waitFor(`nspawn to create ${l.hostIf}`, async () => {
    if (!isRunning()) throw Object.assign(new Error('systemd-nspawn exited'), { fatal: true });
    return (await sh('ip', ['link', 'show', l.hostIf], { allowFailure: true })).exitCode === 0 ? true : undefined;
  }, 30_000, 100);
  await sh('ip', ['link', 'set', l.hostIf, 'up']);
  await sh('ip', ['route', 'replace', `${l.node}/32`, 'dev', l.hostIf, 'src', l.host]);
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
export async function configureNodeNetwork(root: string, slot: number): Promise<void> {
  const l = linkFor(slot);
  await fs.mkdir(path.join(root, 'etc/systemd/network'), { recursive: true });
  await fs.writeFile(path.join(root, 'etc/systemd/network/10-joinagent-e2e.network'), `[Match]\nName=${l.nodeIf}\n\n[Network]\nAddress=${l.node}/30\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`);
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
