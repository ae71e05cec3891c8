import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyNotReady, ignoresCni, overlayPortOf, pluginTypes, type NotReadyFacts } from '../../../src/join/notready.js';
import { renderNmCniConf } from '../../../src/steps/host/networkmanager-cni.js';

const FLANNEL = JSON.stringify({ name: 'cbr0', cniVersion: '0.3.1', plugins: [{ type: 'flannel', delegate: { hairpinMode: true } }, { type: 'portmap', capabilities: { portMappings: true } }] });
const facts = (f: Partial<NotReadyFacts> = {}): NotReadyFacts => ({ conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized' }], cniConfigs: ['10-flannel.conflist'], cniPluginTypes: ['flannel', 'portmap'], cniBinaries: ['flannel', 'portmap', 'bridge'], networkManagerActive: false, networkManagerIgnoresCni: false, ...f });
const causes = (f: Partial<NotReadyFacts>) => classifyNotReady(facts(f)).map((x) => x.cause);

describe('why NotReady, from the node', () => {
  test('table', () => {
    assert.deepEqual(causes({}), [], 'config and binaries present, nothing else known');
    assert.deepEqual(causes({ cniConfigs: [], cniPluginTypes: [] }), ['no-cni-config']);
    assert.deepEqual(causes({ cniBinaries: ['bridge'] }), ['no-cni-binaries']);
    assert.deepEqual(causes({ networkManagerActive: true }), ['networkmanager']);
    assert.deepEqual(causes({ networkManagerActive: true, networkManagerIgnoresCni: true }), []);
    assert.deepEqual(causes({ overlay: { port: '8472/udp', firewall: 'firewalld', open: false } }), ['overlay-port']);
    assert.deepEqual(causes({ overlay: { port: '8472/udp', firewall: 'firewalld', open: true } }), []);
    assert.deepEqual(causes({ conditions: [{ type: 'Ready', status: 'False', message: 'container runtime is down' }, { type: 'DiskPressure', status: 'True' }] }), ['runtime', 'disk-pressure']);
    assert.deepEqual(causes({ conditions: [{ type: 'MemoryPressure', status: 'True' }, { type: 'PIDPressure', status: 'True' }] }), ['memory-pressure', 'pid-pressure']);
    assert.deepEqual(causes({ kubeletCertExpired: '2026-01-01T00:00:00Z' }), ['kubelet-cert']);
  });
  test('messages name the file or port and the next action', () => {
    const [bin] = classifyNotReady(facts({ cniBinaries: [] }));
    assert.match(bin.message, /10-flannel\.conflist needs the CNI plugins flannel, portmap, which are not in \/opt\/cni\/bin/);
    const [port] = classifyNotReady(facts({ overlay: { port: '8472/udp', firewall: 'firewalld', open: false } }));
    assert.match(port.message, /firewalld does not let the overlay network's 8472\/udp in/);
    assert.match(port.hint, /open-ports/);
  });
  test('config parsing: plugin types, overlay port, NetworkManager unmanaged-devices', () => {
    assert.deepEqual(pluginTypes(FLANNEL), ['flannel', 'portmap']);
    assert.deepEqual(pluginTypes('{"type":"bridge"}'), ['bridge']);
    assert.deepEqual(pluginTypes('not json'), []);
    assert.equal(overlayPortOf(FLANNEL), '8472/udp');
    assert.equal(overlayPortOf('{"plugins":[{"type":"calico"}]}'), '4789/udp');
    assert.equal(overlayPortOf('{"type":"bridge"}'), undefined);
    assert.ok(ignoresCni(renderNmCniConf()), 'joinagent\'s own file covers the CNI interfaces');
    assert.ok(!ignoresCni('[keyfile]\nunmanaged-devices=interface-name:docker0\n'));
    assert.match(renderNmCniConf(), /^unmanaged-devices\+=/m, 'appends to an operator\'s own unmanaged-devices instead of replacing it');
    // NetworkManager --print-config's merge of an operator's file and joinagent's
    assert.ok(ignoresCni('[keyfile]\nunmanaged-devices=interface-name:host0;interface-name:cni0;interface-name:flannel*;interface-name:veth*\n'));
    assert.ok(!ignoresCni('[keyfile]\nunmanaged-devices=interface-name:host0\n'));
  });
});
