import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cli } from '../helpers/binary.js';
import { treeHash } from '../helpers/tree-hash.js';

// The CLI surface of the built binary: version, help, usage errors, validate, plan.
const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const runbook = path.join(dir, 'runbook.yaml');
copyFileSync(new URL('../fixtures/config/runbook.yaml', import.meta.url).pathname, runbook);

describe('cli (built binary)', () => {
  it('--version and version', () => {
    const a = cli(['--version']);
    assert.equal(a.code, 0);
    assert.match(a.stdout, /^\d+\.\d+\.\d+\n$/);
    const b = cli(['version', '--json']);
    assert.equal(JSON.parse(b.stdout).version, a.stdout.trim());
    assert.match(JSON.parse(b.stdout).node, /^v22\./, 'runs on its embedded Node 22, not the machine one');
  });

  it('--help lists the commands', () => {
    const r = cli(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['run', 'prepare', 'plan', 'validate', 'status', 'version']) assert.match(r.stdout, new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('bad usage exits 2 without a stack trace', () => {
    for (const args of [['frobnicate'], ['run', '--bogus'], ['--log-format', 'xml', 'validate']]) {
      const r = cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  it('--only/--skip with an unknown step id is a usage error naming the real ids', () => {
    const r = cli(['plan', '--only', 'swapp', '--config', runbook, '--root', path.join(dir, 'only-root')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown step "swapp"; steps are: .*\bswap\b.*\bjoin\b/);
  });

  it('validate accepts the runbook config, with its warnings', () => {
    const r = cli(['validate', '--config', runbook]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid \(Kubernetes v1\.32\.11, API server 192\.168\.10\.100:6443, token from inline/);
    assert.match(r.stderr, /runbook\.yaml:\d+:\d+: warning: discovery\.bootstrapToken\.unsafeSkipCAVerification/);
    assert.doesNotMatch(r.stdout + r.stderr, /1234567890123456/, 'token secret never shown');
  });

  it('validate lists every problem with file:line:col, exits 2, no stack trace, no host change', () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: 1.32
host:
  swap: off
  firewal: disable
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    token: "nope"
    apiServerEndpoint: "10.1.1.1"
`);
    const root = path.join(dir, 'root');
    const before = treeHash(dir);
    for (const cmd of [['validate'], ['run', '--once'], ['plan'], ['prepare']]) {
      const r = cli([...cmd, '--config', bad, '--root', root]);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      const lines = r.stderr.trim().split('\n');
      for (const want of [/bad\.yaml:3:20: kubernetesVersion: /, /bad\.yaml:5:9: host\.swap: /, /bad\.yaml:6:3: host\.firewal: unknown field.*did you mean "firewall"/, /bad\.yaml:12:12: discovery\.bootstrapToken\.token: /, /bad\.yaml:13:24: discovery\.bootstrapToken\.apiServerEndpoint: /]) {
        assert.ok(lines.some((l) => want.test(l)), `${want} in\n${r.stderr}`);
      }
      assert.match(lines.at(-1)!, /\d+ problems; nothing was changed/);
    }
    assert.equal(treeHash(dir), before, 'nothing written anywhere');
  });

  it('plan on an empty host changes nothing', () => {
    const root = path.join(dir, 'plan-root');
    const cfg = path.join(dir, 'plan.yaml');
    writeFileSync(cfg, `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: v1.32.11
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery: { bootstrapToken: { apiServerEndpoint: "127.0.0.1:19809", unsafeSkipCAVerification: true } }
`);
    const before = treeHash(dir);
    const r = cli(['plan', '--config', cfg, '--root', root]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    assert.match(r.stdout, /^plan: /m);
    assert.equal(treeHash(dir), before);
  });
});
