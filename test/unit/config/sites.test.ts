import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { redact } from '../../../src/host/redact.js';
import { tempRoot } from '../../helpers/fakes.js';
import { ok } from '../../fixtures/config/corpus.js';

// proxy: and registries: sections: every problem positioned, secrets resolved and never
// quoted, warnings for what weakens the node (skip_verify, readable key or password files).
const { root, cleanup } = tempRoot('ja-sites-');
after(cleanup);
const put = (name: string, text: string, mode = 0o600): string => {
  const f = path.join(root, name);
  writeFileSync(f, text, { mode });
  return f;
};
const ca = put('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 0o644);
const cert = put('client.crt', 'cert', 0o644);
const loose = put('loose.key', 'key', 0o644);
const pw = put('registry-password', 'Rpw-in-a-file\n');
const pwOpen = put('registry-password-open', 'Rpw-open\n', 0o644);

const load = (name: string, agentPart: string) => loadConfig(put(`${name}.yaml`, ok(agentPart)), { requireToken: true });
const problems = async (name: string, agentPart: string): Promise<string[]> => {
  const e = await load(name, agentPart).then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof ConfigError, `config ${name} was accepted`);
  return e.message.split('\n');
};

describe('config: proxy and registries', () => {
  it('a full, valid section loads: secrets resolved from files, skipVerify and a loose key warned about', async () => {
    const { config, warnings } = await load('good', `proxy:
  http: http://ops:Pr0xy-pass@squid.site:3128
  https: http://ops:Pr0xy-pass@squid.site:3128
  noProxy: [.corp.example, 10.0.0.0/8]
  clusterCIDRs: [10.244.0.0/16, 10.96.0.0/12]
registries:
  registry.site.example:5443:
    ca: ${ca}
    clientCert: ${cert}
    clientKey: ${loose}
    username: robot
    passwordFile: ${pw}
  insecure.site.example:
    skipVerify: true
    token: Tok-inline-value
`);
    assert.deepEqual(config.agent.proxy, { http: 'http://ops:Pr0xy-pass@squid.site:3128', https: 'http://ops:Pr0xy-pass@squid.site:3128', noProxy: ['.corp.example', '10.0.0.0/8'], clusterCIDRs: ['10.244.0.0/16', '10.96.0.0/12'] });
    assert.deepEqual(config.agent.registries['registry.site.example:5443'], { ca, clientCert: cert, clientKey: loose, username: 'robot', password: 'Rpw-in-a-file', passwordFile: pw, skipVerify: false });
    assert.equal(config.agent.registries['insecure.site.example']!.token, 'Tok-inline-value');
    const w = warnings.map((x) => `${x.path}: ${x.message}`);
    assert.ok(w.some((m) => /^registries\.insecure\.site\.example\.skipVerify: containerd will not verify the TLS certificate of insecure\.site\.example/.test(m)), w.join('\n'));
    assert.ok(w.some((m) => /clientKey: the private key .*loose\.key is readable by group\/others \(mode 644\)/.test(m)), w.join('\n'));
    // every secret read is registered: nothing prints it from now on
    assert.equal(redact('a Pr0xy-pass b Rpw-in-a-file c Tok-inline-value'), 'a <redacted> b <redacted> c <redacted>');
  });
  it('every problem at once, each at its line with its field path, no secret quoted', async () => {
    const lines = await problems('bad', `proxy:
  http: socks5://ops:S3cret-socks@squid.site:1080
  noProxy: [ "a b" ]
  clusterCIDRs: [10.0.0.0/40]
registries:
  "Bad_Host":
    ca: relative/ca.pem
  registry.site.example:
    clientCert: ${cert}
    username: robot
  other.site.example:
    password: Pw-without-user
    passwordFile: ${pwOpen}
    ca: /nonexistent/ca.pem
`);
    const file = path.join(root, 'bad.yaml');
    const want: [number, RegExp][] = [
      [5, /proxy\.http: "socks5:\/\/ops:<redacted>@squid\.site:1080": a proxy URL is http:\/\/ or https:\/\//],
      [6, /proxy\.noProxy\[0\]: "a b" is not a noProxy entry/],
      [7, /proxy\.clusterCIDRs\[0\]: "10\.0\.0\.0\/40" is not a CIDR/],
      [9, /registries\.Bad_Host: "Bad_Host" is not a registry host name/],
      [10, /registries\.Bad_Host\.ca: "relative\/ca\.pem" is not an absolute path/],
      [12, /registries\.registry\.site\.example\.clientCert: clientCert needs clientKey/],
      [13, /registries\.registry\.site\.example\.username: username needs password or passwordFile/],
      [15, /registries\.other\.site\.example\.password: password is given both inline and in passwordFile/],
      [17, /registries\.other\.site\.example\.ca: \/nonexistent\/ca\.pem: no such file/],
    ];
    for (const [line, re] of want) assert.ok(lines.some((l) => l.startsWith(`${file}:${line}:`) && re.test(l)), `line ${line} ${re}:\n${lines.join('\n')}`);
    const text = lines.join('\n');
    for (const s of ['S3cret-socks', 'Pw-without-user', 'Rpw-open']) assert.ok(!text.includes(s), `${s} quoted`);
  });
  it('a proxy section without http or https, a readable password file, a token with a username', async () => {
    const lines = await problems('bad2', `proxy:
  noProxy: [.corp]
registries:
  a.example:
    username: robot
    passwordFile: ${pwOpen}
  b.example:
    username: robot
    password: x-pass
    token: t-token
`);
    const text = lines.join('\n');
    assert.match(text, /:4:1: proxy: proxy needs http and\/or https/);
    assert.match(text, /registries\.a\.example\.passwordFile: .*registry-password-open holds a registry password and is readable by group\/others \(mode 644\): chmod 600/);
    assert.match(text, /registries\.b\.example\.token: use either token or username\/password, not both/);
  });
});
