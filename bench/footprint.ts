import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { median, round, stop, timeToServe } from './lib.js';
import { statusConfigYaml } from '../test/helpers/status-config.js';

// Section 3: binary size and start-up time to a served /status, each against a
// hello-world SEA server built the same way (the floor), in the same run. Idle RSS and
// CPU are measured on the joined node (nodes.ts), where the daemon really is idle.
export async function footprint(binary: string, work: string): Promise<Record<string, unknown>> {
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
  const sizeMB = round(statSync(binary).size / 1e6, 1);
  const helloMB = round(statSync(hello).size / 1e6, 1);
  return {
    binaryBytes: statSync(binary).size,
    binarySizeMB: sizeMB,
    helloWorldSizeMB: helloMB,
    sizeRatio: round(sizeMB / helloMB),
    startupToStatusMs: round(median(ja), 1),
    helloWorldStartupMs: round(median(hw), 1),
    startupRatio: round(median(ja) / median(hw)),
    runs,
  };
}

// A config whose host has no tools on PATH: the agent serves /status, then fails its run.
export function benchConfig(port: number): string {
  return statusConfigYaml({ port, apiServer: '127.0.0.1:19829' });
}
