import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { median, procUsage, round, stop, timeToServe } from './lib.js';

// Section 3: binary size, start-up time to a served /status, idle RSS and CPU, each
// against a hello-world SEA server built the same way (the floor), in the same run.
export async function footprint(binary: string, work: string, idleSeconds: number): Promise<Record<string, unknown>> {
  const hello = spawnSync('bash', [path.join(import.meta.dirname, 'build-hello.sh')], { encoding: 'utf8' }).stdout.trim();
  const cfg = path.join(work, 'footprint.yaml');
  writeFileSync(cfg, benchConfig(19821), { mode: 0o600 });
  const env = { PATH: '/nonexistent', HOME: '/root' };
  const runs = 11;
  const ja: number[] = [];
  const hw: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = await timeToServe(binary, ['run', '--config', cfg, '--root', path.join(work, `fp-root-${i}`), '--log-format', 'json'], 19821, '/status', env);
    ja.push(a.ms);
    await stop(a.child);
    const b = await timeToServe(hello, ['127.0.0.1:19822'], 19822, '/', env);
    hw.push(b.ms);
    await stop(b.child);
  }
  // idle: after the run settled, sample RSS and CPU ticks over the window
  const idle = await timeToServe(binary, ['run', '--config', cfg, '--root', path.join(work, 'fp-idle'), '--log-format', 'json'], 19821, '/status', env);
  const helloIdle = await timeToServe(hello, ['127.0.0.1:19822'], 19822, '/', env);
  await new Promise((r) => setTimeout(r, 2000));
  const a0 = procUsage(idle.child.pid!);
  const h0 = procUsage(helloIdle.child.pid!);
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const a1 = procUsage(idle.child.pid!);
  const h1 = procUsage(helloIdle.child.pid!);
  await stop(idle.child);
  await stop(helloIdle.child);
  const tick = 100; // USER_HZ
  const sizeMB = round(statSync(binary).size / 1e6, 1);
  const helloMB = round(statSync(hello).size / 1e6, 1);
  return {
    binarySizeMB: sizeMB,
    helloWorldSizeMB: helloMB,
    sizeRatio: round(sizeMB / helloMB),
    startupToStatusMs: round(median(ja), 1),
    helloWorldStartupMs: round(median(hw), 1),
    startupRatio: round(median(ja) / median(hw)),
    idleRssMiB: round(a1.rssKiB / 1024, 1),
    helloWorldIdleRssMiB: round(h1.rssKiB / 1024, 1),
    rssRatio: round(a1.rssKiB / h1.rssKiB),
    idleCpuPercent: round((100 * (a1.cpuTicks - a0.cpuTicks)) / tick / idleSeconds, 3),
    helloWorldIdleCpuPercent: round((100 * (h1.cpuTicks - h0.cpuTicks)) / tick / idleSeconds, 3),
    idleWindowSeconds: idleSeconds,
    runs,
  };
}

// A config whose host has no tools on PATH: the agent converges (and fails) fast, then idles.
export function benchConfig(port: number): string {
  return `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: v1.32.11
status: { address: 127.0.0.1:${port} }
reconcile: { interval: 1h }
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery: { bootstrapToken: { token: abcdef.0123456789abcdef, apiServerEndpoint: "127.0.0.1:19829", unsafeSkipCAVerification: true } }
`;
}
