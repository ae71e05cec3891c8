import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { treeHash } from '../helpers/tree-hash.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const BINARY = path.join(REPO, 'dist/joinagent');
const FIXTURES = path.join(REPO, 'test/fixtures');

// Tiny fake executables (execa-style): each prints what the real tool would on an
// unprepared Debian 12 host. PATH holds only this directory, so any other command the
// agent tried would be "not found" rather than touching this machine.
const FAKES: Record<string, string> = {
  timedatectl: `case "$1" in show) printf 'Timezone=Etc/UTC\\nLocalRTC=yes\\nCanNTP=yes\\nNTP=no\\nNTPSynchronized=no\\n';; *) echo "fake timedatectl: refusing $*" >&2; exit 99;; esac`,
  systemctl: `case "$1" in
  show) printf 'LoadState=not-found\\nActiveState=inactive\\nUnitFileState=\\n';;
  list-units) printf 'swapfile.swap loaded active active /swapfile\\n';;
  is-enabled) echo disabled; exit 1;;
  *) echo "fake systemctl: refusing $*" >&2; exit 99;;
esac`,
  'dpkg-query': `exit 1`,
  'apt-mark': `case "$1" in showhold) exit 0;; *) echo "fake apt-mark: refusing $*" >&2; exit 99;; esac`,
};


describe('built binary: plan on an unprepared Debian host (temp root, fake tools)', () => {
  let tmp: string;
  let root: string;
  let config: string;
  let bin: string;
  before(() => {
    assert.ok(existsSync(BINARY), `${BINARY} is missing: run 'bash build.sh' first`);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'joinagent-plan-'));
    root = path.join(tmp, 'root');
    bin = path.join(tmp, 'bin');
    const put = (hostPath: string, text: string): void => {
      mkdirSync(path.dirname(path.join(root, hostPath)), { recursive: true });
      writeFileSync(path.join(root, hostPath), text);
    };
    put('/etc/os-release', readFileSync(path.join(FIXTURES, 'os-release/debian-12'), 'utf8'));
    put('/etc/fstab', 'UUID=0a34 / ext4 errors=remount-ro 0 1\n/swapfile none swap sw 0 0\n/dev/sdb1 /mnt/swapdata ext4 defaults 0 2\n');
    put('/etc/hosts', `127.0.0.1\tlocalhost\n127.0.1.1\t${os.hostname()}\n10.0.0.5\tnas\n`);
    put('/swapfile', '');
    put('/proc/swaps', 'Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1048572 0 -2\n');
    put('/proc/filesystems', 'nodev\tsysfs\nnodev\toverlay\n');
    put('/proc/sys/net/bridge/bridge-nf-call-iptables', '0\n');
    put('/proc/sys/net/bridge/bridge-nf-call-ip6tables', '1\n');
    put('/proc/sys/net/ipv4/ip_forward', '0\n');
    // the config loader checks the key path on the real filesystem, the step reads it
    // through --root: the same path exists in both places
    const keyPath = path.join(tmp, 'kubernetes.asc');
    const key = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBFake\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n';
    writeFileSync(keyPath, key);
    put(keyPath, key);
    mkdirSync(bin);
    for (const [name, body] of Object.entries(FAKES)) {
      writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    }
    config = path.join(tmp, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: v1.32.11
host:
  timezone: Asia/Seoul
  hosts:
    - { ip: 192.168.10.100, names: [k8s-ctr] }
    - { ip: 192.168.10.101, names: [${os.hostname()}] }
containerd:
  source: distro
repositories:
  kubernetes: { url: "http://127.0.0.1:19701/", key: ${path.join(tmp, 'kubernetes.asc')} }
status: { address: "127.0.0.1:19702" }
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    token: "abcdef.0123456789abcdef"
    apiServerEndpoint: "192.168.10.100:6443"
    unsafeSkipCAVerification: true
nodeRegistration:
  criSocket: "unix:///run/containerd/containerd.sock"
`,
      { mode: 0o600 },
    );
  });
  after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  it('prints would change with diffs for each host step and changes nothing', async () => {
    const before = treeHash(root);
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(BINARY, ['plan', '--prepare', '--root', root, '-c', config, '--log-format', 'json'], { env: { PATH: bin, HOME: tmp }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    if (process.env.SHOW_PLAN) console.log(r.stdout, r.stderr);
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    const line = (id: string): string => r.stdout.split('\n').find((l) => l.startsWith(id + ' ')) ?? `(no line for ${id})`;
    for (const id of ['time', 'swap', 'modules', 'sysctl', 'hosts', 'packages', 'crictl']) assert.match(line(id), /would change/, r.stdout);
    assert.match(line('selinux'), /skipped/);
    assert.match(line('firewall'), /skipped .*ufw is not installed/);
    // the diffs a user reads
    assert.match(r.stdout, /timezone: Etc\/UTC -> Asia\/Seoul/);
    assert.match(r.stdout, /^ *-\/swapfile none swap sw 0 0$/m);
    assert.match(r.stdout, /^ *\+# joinagent: \/swapfile none swap sw 0 0$/m);
    assert.match(r.stdout, /\* run: swapoff \/swapfile/);
    assert.match(r.stdout, /\* run: systemctl mask swapfile\.swap/);
    assert.match(r.stdout, /\* run: sysctl -w net\.ipv4\.ip_forward=1/);
    assert.doesNotMatch(r.stdout, /sysctl -w net\.bridge\.bridge-nf-call-ip6tables/, 'a key already at 1 is left alone');
    assert.doesNotMatch(r.stdout, /modprobe/, 'built-in modules are not loaded');
    assert.match(r.stdout, /^ *\+# BEGIN joinagent managed block$/m);
    assert.match(r.stdout, new RegExp(`^ *-127\\.0\\.1\\.1\\t${os.hostname().replace(/\./g, '\\.')}$`, 'm'));
    assert.match(r.stdout, /^ *\+deb \[signed-by=\/etc\/apt\/keyrings\/kubernetes\.asc\] http:\/\/127\.0\.0\.1:19701\/ \/$/m);
    assert.match(r.stdout, /package kubelet: absent -> 1\.32\.11/);
    assert.match(r.stdout, /package runc: absent -> installed/);
    assert.match(r.stdout, /\* run: systemctl enable --no-reload kubelet/);
    assert.match(r.stdout, /^ *\+runtime-endpoint: unix:\/\/\/run\/containerd\/containerd\.sock$/m);
    // 7 host steps; the runtime steps (containerd config, service, images) come on top
    const n = Number(/plan: (\d+) steps would change/.exec(r.stdout)?.[1]);
    assert.ok(n >= 7, r.stdout);
    for (const id of ['time', 'swap', 'modules', 'sysctl', 'hosts', 'packages', 'crictl']) assert.match(line(id), /would change/, id);
    assert.equal(treeHash(root), before, 'plan changed files under the root');
  });
});
