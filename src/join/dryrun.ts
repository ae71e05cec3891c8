import type { LoadedConfig } from '../config/types.js';
import { hostFiles } from '../host/files.js';
import { paths } from '../host/paths.js';
import { hostProc } from '../host/proc.js';
import { renderJoinConfig } from './render.js';

const DRYRUN_CONFIG = `${paths.runDir}/kubeadm-join-dryrun.yaml`;

// `run --dry-run` = plan, plus kubeadm's own dry run when the plan would join: kubeadm
// join --dry-run does discovery and pre-flight and prints what it would write, changing
// nothing but its scratch files under /etc/kubernetes/tmp (kubeadm's contract). The
// config with the token lives in joinagent's runtime dir only while kubeadm runs.
export async function kubeadmDryRun(config: LoadedConfig, root: string, nodeIP: string | undefined, write: (line: string) => void): Promise<boolean> {
  const proc = hostProc(true);
  if (!(await proc.which('kubeadm'))) {
    write('kubeadm join --dry-run: skipped, kubeadm is not installed yet (the run would install it first)');
    return true;
  }
  const files = hostFiles(root);
  await files.mkdir(paths.runDir, 0o700);
  await files.write(DRYRUN_CONFIG, renderJoinConfig(config.join, config.token, nodeIP, config.file), { mode: 0o600, backup: false });
  try {
    write(`kubeadm join --config ${DRYRUN_CONFIG} --dry-run:`);
    const r = await proc.probe('kubeadm', ['join', '--config', files.resolve(DRYRUN_CONFIG), '--dry-run'], {
      allowFailure: true,
      timeoutMs: config.agent.join.timeout,
      onLine: (line) => write(`  ${line}`),
    });
    write(r.exitCode === 0 ? 'kubeadm join --dry-run: ok' : `kubeadm join --dry-run: exited ${r.exitCode}`);
    return r.exitCode === 0;
  } finally {
    await files.remove(DRYRUN_CONFIG, { backup: false });
  }
}
