import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { tempRoot } from '../../helpers/fakes.js';

// The bad-config corpus: each case names the field path we expect in the message and
// marks the expected line with "#<" so the assertion checks file:line too.
const HASH = 'sha256:' + 'a'.repeat(64);
const agent = (extra = ''): string => `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: v1.32.11
${extra}`;
const join = (bt = '', rest = ''): string => `---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 192.168.10.100:6443
    caCertHashes: [${HASH}]
${bt}${rest}`;
const TOKEN = '    token: abcdef.0123456789abcdef\n';
const ok = (a = '', bt = TOKEN, rest = ''): string => agent(a) + join(bt, rest);

interface Case {
  name: string;
  yaml: string;
  path: string;
  message: RegExp;
  /** Expected line when no "#<" marker is present. */
  line?: number;
}

const { root, cleanup } = tempRoot('ja-config-');
after(cleanup);
const missing = path.join(root, 'does-not-exist');
const emptyToken = path.join(root, 'empty-token');
writeFileSync(emptyToken, '\n');
const goodToken = path.join(root, 'token');
writeFileSync(goodToken, 'abcdef.0123456789abcdef\n', { mode: 0o600 });
const keyDir = path.join(root, 'keys');
mkdirSync(keyDir);

const cases: Case[] = [
  { name: 'version without v', yaml: ok().replace('kubernetesVersion: v1.32.11', 'kubernetesVersion: 1.32.11 #<'), path: 'kubernetesVersion', message: /v1\.MINOR\.PATCH/ },
  { name: 'version without patch', yaml: ok().replace('kubernetesVersion: v1.32.11', 'kubernetesVersion: v1.32 #<'), path: 'kubernetesVersion', message: /not a Kubernetes version/ },
  { name: 'misspelt top-level key', yaml: ok('kubernetesVerison: v1.32.11 #<\n'), path: 'kubernetesVerison', message: /unknown field.*did you mean "kubernetesVersion"/ },
  { name: 'swap enum', yaml: ok('host:\n  swap: off #<\n'), path: 'host.swap', message: /"off" is not one of disable \| leave/ },
  { name: 'firewall enum with suggestion', yaml: ok('host:\n  firewall: disabled #<\n'), path: 'host.firewall', message: /did you mean "disable"/ },
  { name: 'selinux enum', yaml: ok('host:\n  selinux: enforcing #<\n'), path: 'host.selinux', message: /not one of permissive \| leave/ },
  { name: 'ntp not a bool', yaml: ok('host:\n  ntp: "yes" #<\n'), path: 'host.ntp', message: /expected true or false, got the string "yes"/ },
  { name: 'unknown time zone', yaml: ok('host:\n  timezone: Mars/Olympus #<\n'), path: 'host.timezone', message: /not a known time zone/ },
  { name: 'bad hosts ip', yaml: ok('host:\n  hosts:\n    - { ip: 300.1.1.1, names: [k8s-ctr] } #<\n'), path: 'host.hosts[0].ip', message: /not an IPv4 or IPv6 address/ },
  { name: 'hosts names not a list', yaml: ok('host:\n  hosts:\n    - ip: 192.168.10.100\n      names: k8s-ctr #<\n'), path: 'host.hosts[0].names', message: /expected a list/ },
  { name: 'hosts entry without names', yaml: ok('host:\n  hosts:\n    - { ip: 192.168.10.100, names: [a] }\n    - ip: 192.168.10.101 #<\n'), path: 'host.hosts[1].names', message: /required field "names" is missing/ },
  { name: 'bad host name', yaml: ok('host:\n  hosts:\n    - ip: 192.168.10.100\n      names: ["bad_name!"] #<\n'), path: 'host.hosts[0].names[0]', message: /not a valid host name/ },
  { name: 'firewall port without protocol', yaml: ok('host:\n  firewallPorts: [10250] #<\n'), path: 'host.firewallPorts[0]', message: /PORT\/PROTO/ },
  { name: 'containerd source enum', yaml: ok('containerd:\n  source: apt #<\n'), path: 'containerd.source', message: /docker \| distro/ },
  { name: 'mirror not http', yaml: ok('containerd:\n  registryMirrors:\n    registry.k8s.io: ["ftp://mirror:21"] #<\n'), path: 'containerd.registryMirrors.registry.k8s.io[0]', message: /not an http\(s\) URL/ },
  { name: 'mirror key not a host', yaml: ok('containerd:\n  registryMirrors:\n    "Bad Host": ["https://m"] #<\n'), path: 'containerd.registryMirrors.Bad Host', message: /not a registry host name/ },
  { name: 'repository url', yaml: ok('repositories:\n  kubernetes: { url: not-a-url } #<\n'), path: 'repositories.kubernetes.url', message: /not an http\(s\) URL/ },
  { name: 'repository key file missing', yaml: ok(`repositories:\n  docker:\n    key: ${missing} #<\n`), path: 'repositories.docker.key', message: /no such file/ },
  { name: 'image repository with scheme', yaml: ok('images:\n  repository: https://registry.k8s.io #<\n'), path: 'images.repository', message: /no scheme/ },
  { name: 'archives dir missing', yaml: ok(`images:\n  archives: ${missing} #<\n`), path: 'images.archives', message: /no such file/ },
  { name: 'archives is a file', yaml: ok(`images:\n  archives: ${goodToken} #<\n`), path: 'images.archives', message: /not a directory/ },
  { name: 'nodeIP', yaml: ok('nodeIP: eth0 #<\n'), path: 'nodeIP', message: /auto, an IP address, or interface:NAME/ },
  { name: 'tokenFile relative', yaml: ok('join:\n  tokenFile: etc/token #<\n', ''), path: 'join.tokenFile', message: /not an absolute path/ },
  { name: 'tokenFile missing', yaml: ok(`join:\n  tokenFile: ${missing} #<\n`, ''), path: 'join.tokenFile', message: /cannot read .*no such file/ },
  { name: 'tokenFile empty', yaml: ok(`join:\n  tokenFile: ${emptyToken} #<\n`, ''), path: 'join.tokenFile', message: /is empty/ },
  { name: 'join timeout', yaml: ok('join:\n  timeout: 10 minutes #<\n'), path: 'join.timeout', message: /not a duration/ },
  { name: 'status address without port', yaml: ok('status:\n  address: localhost #<\n'), path: 'status.address', message: /not host:port/ },
  { name: 'reconcile mode', yaml: ok('reconcile:\n  mode: fix #<\n'), path: 'reconcile.mode', message: /repair \| report/ },
  { name: 'token format (value not echoed)', yaml: ok('', '    token: ABCDEF.0123456789abcdef #<\n'), path: 'discovery.bootstrapToken.token', message: /\[a-z0-9\]\{6\}\.\[a-z0-9\]\{16\}.*value not shown/ },
  { name: 'endpoint without port', yaml: ok().replace('apiServerEndpoint: 192.168.10.100:6443', 'apiServerEndpoint: 192.168.10.100 #<'), path: 'discovery.bootstrapToken.apiServerEndpoint', message: /not host:port/ },
  { name: 'endpoint port out of range', yaml: ok().replace('192.168.10.100:6443', 'k8s-ctr:99999 #<'), path: 'discovery.bootstrapToken.apiServerEndpoint', message: /not host:port/ },
  { name: 'CA hash format', yaml: ok().replace(`[${HASH}]`, '[sha256:abc] #<'), path: 'discovery.bootstrapToken.caCertHashes[0]', message: /sha256:<64 lowercase hex>/ },
  { name: 'no CA pin and no unsafe skip', yaml: ok().replace(`    caCertHashes: [${HASH}]\n`, '').replace('  bootstrapToken:', '  bootstrapToken: #<'), path: 'discovery.bootstrapToken.caCertHashes', message: /joinagent ca-hash/ },
  { name: 'misspelt JoinConfiguration field', yaml: ok('', TOKEN, 'nodeRegistration:\n  kubeletExtraArg: [] #<\n'), path: 'nodeRegistration.kubeletExtraArg', message: /did you mean "kubeletExtraArgs"/ },
  { name: 'v1beta4 extra args as a map', yaml: ok('', TOKEN, 'nodeRegistration:\n  kubeletExtraArgs: #<\n    node-ip: 1.2.3.4\n'), path: 'nodeRegistration.kubeletExtraArgs', message: /expected a list/ },
  { name: 'v1beta3 has no timeouts', yaml: ok('', TOKEN, 'timeouts: #<\n  discovery: 5m\n').replace('kubeadm.k8s.io/v1beta4', 'kubeadm.k8s.io/v1beta3'), path: 'timeouts', message: /unknown field "timeouts"/ },
  { name: 'controlPlane refused', yaml: ok('', TOKEN, 'controlPlane: #<\n  certificateKey: x\n'), path: 'controlPlane', message: /joins workers only/ },
  { name: 'criSocket not a URL', yaml: ok('', TOKEN, 'nodeRegistration:\n  criSocket: /run/containerd/containerd.sock #<\n'), path: 'nodeRegistration.criSocket', message: /not a socket URL/ },
  { name: 'taint effect', yaml: ok('', TOKEN, 'nodeRegistration:\n  taints:\n    - { key: a, effect: NoRun } #<\n'), path: 'nodeRegistration.taints[0].effect', message: /NoSchedule/ },
  { name: 'no JoinConfiguration', yaml: agent(), path: '', line: 1, message: /no JoinConfiguration document/ },
  { name: 'no AgentConfiguration', yaml: join(TOKEN), path: '', line: 1, message: /no AgentConfiguration document/ },
  { name: 'two AgentConfigurations', yaml: ok() + '\n---\napiVersion: joinagent.io/v1alpha1 #<\nkind: AgentConfiguration\nkubernetesVersion: v1.32.11\n', path: 'kind', message: /second AgentConfiguration/ },
  { name: 'control-plane kind', yaml: ok() + '\n---\napiVersion: kubeadm.k8s.io/v1beta4 #<\nkind: ClusterConfiguration\n', path: 'kind', message: /ClusterConfiguration is for control-plane nodes/ },
  { name: 'token inline and in a file', yaml: ok(`join:\n  tokenFile: ${goodToken}\n`, '    token: abcdef.0123456789abcdef #<\n'), path: 'discovery.bootstrapToken.token', message: /both inline and in join.tokenFile/ },
  { name: 'wrong agent apiVersion', yaml: ok().replace('joinagent.io/v1alpha1', 'joinagent.io/v1 #<'), path: 'apiVersion', message: /not one of joinagent.io\/v1alpha1/ },
  { name: 'missing kubernetesVersion', yaml: ok().replace('kubernetesVersion: v1.32.11\n', ''), path: 'kubernetesVersion', line: 1, message: /required field "kubernetesVersion" is missing/ },
  { name: 'duplicate key', yaml: ok('host:\n  swap: disable\n  swap: leave #<\n'), path: 'host.swap', message: /duplicate key/ },
  { name: 'YAML alias', yaml: ok('host:\n  swap: &s disable\n  selinux: *s #<\n'), path: 'host.selinux', message: /aliases are not supported/ },
  { name: 'a list where a mapping belongs', yaml: ok('host: [a, b] #<\n'), path: 'host', message: /expected a mapping, got a list/ },
  // the parser notices the unclosed list where the input ends
  { name: 'YAML syntax error', yaml: 'apiVersion: joinagent.io/v1alpha1\nkind: [unclosed\n', path: '', line: 3, message: /YAML syntax/ },
  { name: 'document not a mapping', yaml: ok() + '\n---\n- just #<\n- a list\n', path: '', message: /must be a mapping/ },
];

describe('bad-config corpus', () => {
  it('has at least 30 cases', () => assert.ok(cases.length >= 30, `${cases.length} cases`));
  for (const c of cases) {
    it(c.name, async () => {
      const file = path.join(root, `${c.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, c.yaml, { mode: 0o600 });
      const markerLine = c.yaml.split('\n').findIndex((l) => l.includes('#<')) + 1;
      const line = c.line ?? markerLine;
      assert.ok(line > 0, 'case has a line');
      const err = await loadConfig(file, { requireToken: true }).then(
        () => assert.fail('config was accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConfigError, String(err));
      const want = `${file}:${line}:`;
      const hit = err.message.split('\n').find((l) => l.startsWith(want) && (c.path === '' || l.includes(` ${c.path}: `)) && c.message.test(l));
      assert.ok(hit, `expected a line "${want}... ${c.path}: ${c.message}" in:\n${err.message}`);
      assert.ok(!/abcdef\.0123456789abcdef|0123456789abcdef/.test(err.message), 'token secret must not appear');
    });
  }
});

const write = (name: string, text: string | Buffer): string => {
  const f = path.join(root, name);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
};

describe('file-level problems', () => {
  const fails = async (file: string, re: RegExp): Promise<void> => {
    const e = await loadConfig(file).then(() => null, (x: unknown) => x);
    assert.ok(e instanceof ConfigError, 'expected ConfigError');
    assert.match(e.message, re);
    assert.match(e.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:1: `));
  };
  it('empty file', () => fails(write('empty.yaml', '  \n'), /file is empty/));
  it('missing file', () => fails(missing, /cannot read config: no such file/));
  it('a directory', () => fails(keyDir, /not a regular file/));
  it('huge input', () => fails(write('huge.yaml', Buffer.alloc(1024 * 1024 + 1, 0x61)), /a config is at most 1048576 bytes/));
  it('binary input', () => fails(write('bin.yaml', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2])), /binary, not YAML/));

  it('reports every problem at once, in line order', async () => {
    const f = write('many.yaml', ok('host:\n  swap: off\n  firewall: nope\nnodeIP: x\n'));
    const e = (await loadConfig(f).catch((x: unknown) => x)) as ConfigError;
    const lines = e.message.split('\n');
    assert.equal(lines.length, 3, e.message);
    assert.deepEqual(lines.map((l) => Number(l.split(':')[1])), [5, 6, 7]);
  });
});

describe('warnings and accepted configs', () => {
  it('accepts the runbook config and warns about unsafeSkipCAVerification and a group-readable token file', async () => {
    const src = new URL('../../fixtures/config/runbook.yaml', import.meta.url).pathname;
    const f = path.join(root, 'runbook.yaml');
    writeFileSync(f, (await import('node:fs')).readFileSync(src));
    chmodSync(f, 0o644);
    const { config, warnings } = await loadConfig(f, { requireToken: true });
    assert.equal(config.agent.kubernetesVersion, 'v1.32.11');
    assert.equal(config.join.apiServerEndpoint, '192.168.10.100:6443');
    assert.deepEqual(config.join.kubeletExtraArgs, [{ name: 'node-ip', value: '192.168.10.101' }]);
    assert.equal(config.tokenSource, 'inline');
    const text = warnings.map((w) => `${w.line}: ${w.path}: ${w.message}`).join('\n');
    assert.match(text, /unsafeSkipCAVerification: the control plane is not authenticated.*joinagent ca-hash/);
    assert.match(text, /readable by group\/others \(mode 644\): chmod 600/);
  });

  it('v1beta3 map-style kubeletExtraArgs are normalised', async () => {
    const f = write('v1beta3.yaml', ok('', TOKEN, 'nodeRegistration:\n  kubeletExtraArgs:\n    node-ip: 10.0.0.5\n').replace('v1beta4', 'v1beta3'));
    const { config } = await loadConfig(f);
    assert.equal(config.join.apiVersion, 'kubeadm.k8s.io/v1beta3');
    assert.deepEqual(config.join.kubeletExtraArgs, [{ name: 'node-ip', value: '10.0.0.5' }]);
  });

  it('token from join.tokenFile and from the systemd credential', async () => {
    const f1 = write('tf.yaml', ok(`join:\n  tokenFile: ${goodToken}\n`, ''));
    const r1 = await loadConfig(f1, { requireToken: true });
    assert.equal(r1.config.tokenSource, 'file');
    assert.equal(r1.config.token, 'abcdef.0123456789abcdef');
    mkdirSync(path.join(root, 'creds'), { recursive: true });
    writeFileSync(path.join(root, 'creds', 'join-token'), 'abcdef.0123456789abcdef');
    const r2 = await loadConfig(write('cred.yaml', ok('', '')), { requireToken: true, credentialsDir: path.join(root, 'creds') });
    assert.equal(r2.config.tokenSource, 'credential');
  });

  it('missing token is an error only when the command joins', async () => {
    const f = write('notoken.yaml', ok('', ''));
    const r = await loadConfig(f, { requireToken: false, credentialsDir: '' });
    assert.equal(r.config.tokenSource, 'none');
    const e = await loadConfig(f, { requireToken: true, credentialsDir: '' }).catch((x: unknown) => x);
    assert.match(String((e as Error).message), /no bootstrap token/);
  });

  it('applies defaults', async () => {
    const { config } = await loadConfig(write('defaults.yaml', ok()));
    assert.equal(config.agent.status.address, '127.0.0.1:9797');
    assert.equal(config.agent.host.swap, 'disable');
    assert.equal(config.agent.reconcile.interval, 300_000);
    assert.equal(config.agent.images.repository, 'registry.k8s.io');
  });
});
