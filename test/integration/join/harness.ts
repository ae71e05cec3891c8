import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeCri } from './fake-cri.js';

// Shared by the join integration tests: the BUILT binary, the stand-ins on PATH, a temp
// root per test, and a config writer. Ports 19730-19749 on 127.0.0.1 only.
const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');
export const BINARY = path.join(REPO, 'dist/joinagent');
export const STANDINS = path.join(REPO, 'test/fixtures/standins');
const FAKE_CRI = path.join(REPO, 'test/integration/join/fake-cri');
export const TOKEN = 'abcdef.0123456789abcdef';
export const SECRET = '0123456789abcdef';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

// A temp root that passes kubeadm's pre-flight as a prepared node does: the sysctls it
// reads under /proc (the stand-ins read /proc under STANDIN_ROOT), /var/run -> /run, /etc/resolv.conf, and a
// CRI endpoint answering on /run/containerd/containerd.sock (fake-cri.ts).
export function tempRoot(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ja-join-it-'));
  for (const f of ['proc/sys/net/ipv4/ip_forward', 'proc/sys/net/ipv6/conf/default/forwarding']) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), '1\n');
  }
  mkdirSync(path.join(root, 'var'), { recursive: true });
  symlinkSync('../run', path.join(root, 'var/run'));
  // every node has a resolver file; the kubelet (and its stand-in) fails pod sandboxes without one
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/resolv.conf'), 'nameserver 192.0.2.53\n');
  const cri = startFakeCri(path.join(root, 'run/containerd/containerd.sock'));
  return {
    root,
    cleanup: () => {
      cri.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface ConfigOpts {
  endpoint: string;
  caCertHashes?: string[];
  unsafe?: boolean;
  /** inline token; or tokenFile */
  token?: string;
  tokenFile?: string;
  version?: string;
  statusPort?: number;
  agentExtra?: string;
  joinExtra?: string;
}

// Writes ROOT/cfg/config.yaml (mode 0600: it may hold the token) and returns its path.
export function writeConfig(root: string, o: ConfigOpts): string {
  mkdirSync(path.join(root, 'cfg'), { recursive: true });
  const file = path.join(root, 'cfg/config.yaml');
  const pins = o.caCertHashes?.length ? `    caCertHashes: [${o.caCertHashes.map((h) => `"${h}"`).join(', ')}]\n` : '';
  writeFileSync(
    file,
    `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: ${o.version ?? 'v1.32.11'}
status: { address: 127.0.0.1:${o.statusPort ?? 19739} }
join:
  waitForReady: 4s
${o.tokenFile ? `  tokenFile: ${o.tokenFile}\n` : ''}${o.agentExtra ?? ''}---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "${o.endpoint}"
${o.token ? `    token: "${o.token}"\n` : ''}${pins}${o.unsafe ? '    unsafeSkipCAVerification: true\n' : ''}${o.joinExtra ?? ''}`,
    { mode: 0o600 },
  );
  return file;
}

// Environment for the binary and the stand-ins it runs: stand-ins first on PATH (behind a
// fake crictl: no container runtime runs on the build machine), the same temp root for
// both, the stand-in kubelet's healthz on a test port.
export function agentEnv(root: string, kubeletPort = 19738): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${FAKE_CRI}:${STANDINS}:${process.env.PATH}`, STANDIN_ROOT: root, JOINAGENT_TEST_KUBELET_PORT: String(kubeletPort), BUSYBOX: 'busybox' };
}

export function runBinary(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 90_000): Promise<Result> {
  return runCmd(BINARY, args, env, timeoutMs);
}

export function runCmd(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 90_000): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

// Stops a stand-in kubelet a test started (by its pid file, never by name).
export function stopKubelet(root: string): void {
  try {
    const pid = Number(readFileSync(path.join(root, 'run/kubelet-standin.pid'), 'utf8'));
    if (pid > 1) process.kill(pid, 'SIGTERM');
  } catch {
    // not started
  }
}
