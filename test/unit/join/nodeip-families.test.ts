import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseNodeIP } from '../../../src/join/nodeip.js';
import { FakeProc } from '../../helpers/fakes.js';

// A dual-stack host: eth1 carries the cluster network in both families (plus a privacy
// address that rotates and a link-local one), eth0 is an IPv4-only uplink.
const ADDRS = JSON.stringify([
  { ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.1.0.5', scope: 'global' }] },
  {
    ifname: 'eth1',
    addr_info: [
      { family: 'inet', local: '192.168.10.101', scope: 'global' },
      { family: 'inet6', local: 'fd00:10::8a1f:3c2e', scope: 'global', temporary: true },
      { family: 'inet6', local: 'fd00:10::101', scope: 'global' },
      { family: 'inet6', local: 'fe80::1', scope: 'link' },
    ],
  },
]);

function host(): FakeProc {
  return new FakeProc()
    .on('ip -j addr show', { stdout: ADDRS })
    .on('ip -j addr show dev eth1', { stdout: JSON.stringify([JSON.parse(ADDRS)[1]]) })
    .on('ip -j addr show dev eth0', { stdout: JSON.stringify([JSON.parse(ADDRS)[0]]) })
    .on('ip -j route get 192.168.10.100', { stdout: '[{"dst":"192.168.10.100","dev":"eth1","prefsrc":"192.168.10.101"}]' })
    .on('ip -j route get fd00:10::100', { stdout: '[{"dst":"fd00:10::100","dev":"eth1","prefsrc":"fd00:10::101"}]' })
    .on('ip -j route show default', { stdout: '[{"dst":"default","gateway":"10.1.0.1","dev":"eth0"}]' })
    .on('ip -6 -j route show default', { stdout: '[]' });
}

test('single-stack IPv6: the source address toward [fd00:10::100], not the privacy address', async () => {
  const c = await chooseNodeIP('auto', '[fd00:10::100]:6443', host());
  assert.equal(c.ip, 'fd00:10::101');
  assert.deepEqual(c.ips, ['fd00:10::101']);
  assert.equal(c.warning, undefined);
});

test('dual-stack over an IPv4 API endpoint: the IPv6 address of the same interface, IPv4 primary', async () => {
  const c = await chooseNodeIP('auto', '192.168.10.100:6443', host(), ['ipv4', 'ipv6']);
  assert.equal(c.ip, '192.168.10.101,fd00:10::101');
  assert.match(c.how, /IPv4: source address of the route to 192\.168\.10\.100 via eth1; IPv6: IPv6 address of eth1, the interface toward the API server/);
});

test('dual-stack over an IPv6 API endpoint with an IPv4-primary cluster: order follows the cluster', async () => {
  const c = await chooseNodeIP('auto', '[fd00:10::100]:6443', host(), ['ipv4', 'ipv6']);
  assert.deepEqual(c.ips, ['192.168.10.101', 'fd00:10::101']);
});

test('a cluster family the host has no address of: named, not guessed', async () => {
  const p = host().on('ip -j addr show', { stdout: JSON.stringify([JSON.parse(ADDRS)[0]]) }).on('ip -j route get 10.1.0.9', { stdout: '[{"dst":"10.1.0.9","dev":"eth0","prefsrc":"10.1.0.5"}]' });
  await assert.rejects(chooseNodeIP('auto', '10.1.0.9:6443', p, ['ipv4', 'ipv6']), /no global IPv6 address; the API server 10\.1\.0\.9:6443 is reached over the other family/);
});

test('interface:NAME gives one address per cluster family, and names the missing one', async () => {
  assert.equal((await chooseNodeIP('interface:eth1', '192.168.10.100:6443', host(), ['ipv6', 'ipv4'])).ip, 'fd00:10::101,192.168.10.101');
  await assert.rejects(chooseNodeIP('interface:eth0', '192.168.10.100:6443', host(), ['ipv4', 'ipv6']), /interface "eth0" has no global IPv6 address \(the cluster is dual-stack/);
});

test('a literal single address on a dual-stack cluster is used, with a warning', async () => {
  const c = await chooseNodeIP('192.168.10.101', '192.168.10.100:6443', host(), ['ipv4', 'ipv6']);
  assert.equal(c.ip, '192.168.10.101');
  assert.match(c.warning?.message ?? '', /no IPv6 address, but the cluster is dual-stack/);
  assert.equal((await chooseNodeIP('192.168.10.101,fd00:10::101', '192.168.10.100:6443', host(), ['ipv4', 'ipv6'])).warning, undefined);
});
