import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkNoProxyEntry, checkProxyUrl } from '../../../src/config/formats.js';
import { redact } from '../../../src/host/redact.js';
import { dnfProxySettings, editIniSection, noProxyList, proxyEnv, proxyFor, proxyView, renderAptProxy, renderProxyDropIn } from '../../../src/net/proxy.js';
import { testConfig } from '../../helpers/fakes.js';

const proxy = { http: 'http://squid.site:3128', https: 'http://user:p%40ss@squid.site:3128', noProxy: ['.corp.example', 'registry.local:5000'], clusterCIDRs: ['10.244.0.0/16', 'fd00:10:96::/108'] };

describe('proxy model', () => {
  it('NO_PROXY: fixed entries, API server, node addresses and name, cluster CIDRs, then the operator\'s; no duplicates', () => {
    const list = noProxyList({ ...proxy, noProxy: [...proxy.noProxy, 'localhost'] }, '[fd00::1]:6443', ['192.168.10.101', 'fd00::101'], 'k8s-w1');
    assert.deepEqual(list, ['localhost', '127.0.0.1', '::1', '.svc', '.svc.cluster.local', 'fd00::1', '192.168.10.101', 'fd00::101', 'k8s-w1', '10.244.0.0/16', 'fd00:10:96::/108', '.corp.example', 'registry.local:5000']);
  });
  it('NO_PROXY also holds the cluster\'s pod and service subnets from networking: (dual-stack too)', () => {
    const config = testConfig({ proxy: { ...proxy, clusterCIDRs: [] }, networking: { podSubnet: '10.244.0.0/16,fd00:10:244::/56', serviceSubnet: '10.96.0.0/12' } });
    const v = proxyView(config, ['192.168.10.101'], 'k8s-w1')!;
    for (const c of ['10.244.0.0/16', 'fd00:10:244::/56', '10.96.0.0/12']) assert.ok(v.noProxy.includes(c), `${c} in ${v.noProxy.join(',')}`);
    assert.equal(proxyFor('https://10.96.0.1/', v), undefined, 'the kubernetes service address is reached directly');
  });
  const view = { http: proxy.http, https: proxy.https, noProxy: noProxyList(proxy, '192.168.10.100:6443', ['192.168.10.101'], 'k8s-w1') };
  const cases: [string, string | undefined][] = [
    ['https://registry.k8s.io/v2/', proxy.https],
    ['http://deb.debian.org/debian/', proxy.http],
    ['https://192.168.10.100:6443/healthz', undefined], // the API server
    ['https://10.244.3.7/', undefined], // pod CIDR
    ['https://[fd00:10:96::1]/', undefined], // service CIDR (v6)
    ['https://10.245.0.1/', proxy.https],
    ['https://mirror.corp.example/', undefined], // suffix
    ['https://corp.example/', undefined], // the domain itself
    ['https://notcorp.example/', proxy.https],
    ['http://registry.local:5000/v2/', undefined], // host:port entry
    ['http://registry.local:5001/v2/', proxy.http], // another port
    ['http://kube-dns.kube-system.svc/', undefined],
    ['http://localhost:8080/', undefined],
    ['ftp://x.example/', undefined],
  ];
  for (const [url, want] of cases) it(`proxyFor ${url} -> ${want ?? 'direct'}`, () => assert.equal(proxyFor(url, view), want));

  it('drop-in: both spellings, systemd quoting, % doubled', () => {
    const text = renderProxyDropIn({ http: 'http://u:50%25@p:3128', noProxy: ['a', 'b'] }, 'containerd');
    assert.match(text, /^\[Service\]$/m);
    assert.match(text, /^Environment="HTTP_PROXY=http:\/\/u:50%%25@p:3128"$/m);
    assert.match(text, /^Environment="http_proxy=http:\/\/u:50%%25@p:3128"$/m);
    assert.match(text, /^Environment="NO_PROXY=a,b"$/m);
    assert.doesNotMatch(text, /HTTPS_PROXY/);
    assert.deepEqual(Object.keys(proxyEnv({ https: 'http://p:1', noProxy: [] })), ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']);
  });
  it('apt: one proxy per scheme, DIRECT for exact hosts only (no suffixes, CIDRs or host:port)', () => {
    const text = renderAptProxy(view);
    assert.match(text, /^Acquire::http::Proxy "http:\/\/squid\.site:3128";$/m);
    assert.match(text, /^Acquire::https::Proxy "http:\/\/user:p%40ss@squid\.site:3128";$/m);
    assert.match(text, /^Acquire::http::Proxy::192\.168\.10\.100 "DIRECT";$/m);
    assert.doesNotMatch(text, /corp\.example|10\.244|registry\.local|\.svc/);
  });
  it('dnf: [main] proxy keys set and removed, every other line and section kept', () => {
    const conf = '# distro comment\n[main]\ngpgcheck=1\nproxy=http://old:1\n\n[other]\nproxy=keep-me\n';
    const set = editIniSection(conf, 'main', dnfProxySettings(view));
    assert.equal(set, '# distro comment\n[main]\ngpgcheck=1\nproxy=http://squid.site:3128\nproxy_username=user\nproxy_password=p@ss\n\n[other]\nproxy=keep-me\n');
    assert.equal(editIniSection(set, 'main', dnfProxySettings(undefined)), '# distro comment\n[main]\ngpgcheck=1\n\n[other]\nproxy=keep-me\n');
    assert.equal(editIniSection('', 'main', { proxy: 'http://p:1' }), '[main]\nproxy=http://p:1\n');
  });
  it('config formats: proxy URLs and noProxy entries; a bad proxy URL is echoed without its password', () => {
    assert.equal(checkProxyUrl('http://u:p@proxy:3128'), undefined);
    assert.match(checkProxyUrl('socks5://u:hunter2@proxy:1080') ?? '', /"socks5:\/\/u:<redacted>@proxy:1080": a proxy URL is http/);
    assert.match(checkProxyUrl('http://u:hunter2@proxy:3128/path') ?? '', /no path/);
    assert.doesNotMatch(checkProxyUrl('http://u:hunter2@proxy:3128/path') ?? '', /hunter2/);
    for (const ok of ['.corp.example', 'corp.example', '10.0.0.0/8', '10.1.2.3', 'fd00::1', '[fd00::1]:6443', 'host:5000', '*']) assert.equal(checkNoProxyEntry(ok), undefined, ok);
    for (const bad of ['http://x', 'a b', '10.0.0.0/99']) assert.ok(checkNoProxyEntry(bad), bad);
  });
  it('redact: credentials in any URL, however short', () => {
    assert.equal(redact('E: Failed to fetch via http://me:pw@squid:3128 (407)'), 'E: Failed to fetch via http://me:<redacted>@squid:3128 (407)');
  });
});
