import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSubnets, familiesInUse, networkingProblems, nodeFamilies } from '../../../src/config/networking.js';
import { checkNodeIP, joinHostPort } from '../../../src/config/formats.js';

const agent = (networking: { podSubnet?: string; serviceSubnet?: string } = {}, nodeIP = 'auto', hosts: { ip: string; names: string[] }[] = [], registryMirrors: Record<string, string[]> = {}) => ({ networking, nodeIP, host: { hosts }, containerd: { source: 'distro' as const, registryMirrors } });

describe('networking: kubeadm subnet strings', () => {
  const table: [string, 'pod' | 'service', RegExp | undefined][] = [
    ['10.244.0.0/16', 'pod', undefined],
    ['10.244.0.0/16,fd00:10:244::/56', 'pod', undefined],
    ['fd00:10:244::/56,10.244.0.0/16', 'pod', undefined],
    ['10.244.0.0/16,10.245.0.0/16', 'pod', /two of different families/],
    ['10.244.0.0/16,fd00::/56,10.1.0.0/16', 'pod', /two of different families/],
    ['10.244.0.0', 'pod', /"10\.244\.0\.0" is not a CIDR/],
    ['10.244.0.0/33', 'pod', /not a CIDR/],
    ['10.96.0.0/12', 'service', undefined],
    ['10.0.0.0/8', 'service', /at most 20 host bits/],
    ['fd00:10:96::/112', 'service', undefined],
    ['fd00:10:96::/64', 'service', /IPv6: \/108 or longer/],
  ];
  for (const [v, kind, want] of table) {
    it(`${kind} ${v}`, () => {
      const got = checkSubnets(v, kind);
      if (want) assert.match(got ?? '', want);
      else assert.equal(got, undefined);
    });
  }
  it('nodeIP accepts one address per family, in either order, not two of one family', () => {
    assert.equal(checkNodeIP('198.18.0.2,fd6a::2'), undefined);
    assert.equal(checkNodeIP('fd6a::2,198.18.0.2'), undefined);
    assert.match(checkNodeIP('198.18.0.2,198.18.0.3') ?? '', /different families/);
    assert.match(checkNodeIP('eth0') ?? '', /auto, an IP address, or interface:NAME/);
  });
  it('joinHostPort brackets IPv6 only', () => {
    assert.equal(joinHostPort('fd00::1', 6443), '[fd00::1]:6443');
    assert.equal(joinHostPort('[fd00::1]', 6443), '[fd00::1]:6443');
    assert.equal(joinHostPort('192.168.10.100', 6443), '192.168.10.100:6443');
  });
});

describe('networking: families', () => {
  it('the cluster order decides the primary family: service subnet first', () => {
    assert.deepEqual(nodeFamilies(agent({ podSubnet: '10.244.0.0/16,fd00::/56', serviceSubnet: 'fd00:96::/112,10.96.0.0/12' })), ['ipv6', 'ipv4']);
    assert.deepEqual(nodeFamilies(agent({ podSubnet: 'fd00::/56' })), ['ipv6']);
    assert.equal(nodeFamilies(agent()), undefined);
  });
  const ep = (apiServerEndpoint: string) => ({ apiServerEndpoint });
  it('in use: the cluster, the API endpoint (also through host.hosts), a literal nodeIP', () => {
    assert.deepEqual(familiesInUse(agent(), ep('192.168.10.100:6443')), ['ipv4']);
    assert.deepEqual(familiesInUse(agent(), ep('[fd00::1]:6443')), ['ipv6']);
    assert.deepEqual(familiesInUse(agent({ podSubnet: '10.244.0.0/16' }), ep('[fd00::1]:6443')), ['ipv4', 'ipv6']);
    assert.deepEqual(familiesInUse(agent({}, 'auto', [{ ip: 'fd00::1', names: ['k8s-ctr'] }]), ep('k8s-ctr:6443')), ['ipv6']);
    assert.deepEqual(familiesInUse(agent(), ep('k8s-ctr:6443')), ['ipv4'], 'a name not in host.hosts: IPv4 assumed, DNS not asked');
    assert.deepEqual(familiesInUse(agent({}, '192.168.10.101,fd00::101'), ep('192.168.10.100:6443')), ['ipv4', 'ipv6']);
  });
  it('a literal nodeIP against the cluster families: foreign family refused, missing or reordered family warned', () => {
    const dual = { podSubnet: '10.244.0.0/16,fd00::/56' };
    assert.deepEqual(networkingProblems(agent(dual, '192.168.10.101,fd00::101')), []);
    assert.deepEqual(networkingProblems(agent({}, 'fd00::101')), [], 'no networking: nothing to compare');
    const [missing] = networkingProblems(agent(dual, '192.168.10.101'));
    assert.equal(missing.severity, 'warning');
    assert.match(missing.message, /no IPv6 address, but the cluster \(networking\) is dual-stack/);
    const [foreign] = networkingProblems(agent({ podSubnet: '10.244.0.0/16' }, 'fd00::101'));
    assert.equal(foreign.severity, 'error');
    assert.match(foreign.message, /has an IPv6 address, but the cluster \(networking\) is IPv4 only/);
    const [order] = networkingProblems(agent({ serviceSubnet: '10.96.0.0/12,fd00:96::/112' }, 'fd00::101,192.168.10.101'));
    assert.match(order.message, /lists IPv6 first, but the cluster's primary family .* is IPv4/);
  });
});

describe('networking: registry mirrors by IPv6 address', () => {
  it('warned at the mirror (containerd 1.x cannot read them), names and IPv4 are fine', () => {
    const p = networkingProblems(agent({}, 'auto', [], { 'registry.k8s.io': ['http://registry-mirror:5000', 'http://[fd00::5]:5000', 'http://10.0.0.5:5000'] }));
    assert.deepEqual(p.map((x) => [x.path, x.severity]), [['containerd.registryMirrors.registry.k8s.io[1]', 'warning']]);
    assert.match(p[0].message, /containerd 1\.x cannot read a mirror given by IPv6 address/);
  });
});
