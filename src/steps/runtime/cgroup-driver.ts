import { parse } from 'yaml';
import { DEFAULT_CGROUP_DRIVER } from '../../config/kubelet.js';
import { StepError, type Step } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { cgroupMode, cgroupVerdict, type CgroupFacts } from '../../runtime/cgroup-driver.js';
import { effectiveCriConfig } from '../../runtime/effective.js';
import { parseContainerdVersion } from '../../runtime/pull-path.js';
import { containerdVersionOutput } from './containerd-version.js';
import { liveStatus } from './cri.js';

// A read-only check that kubelet's cgroup driver, containerd's runc (as it runs) and the
// host agree (runtime/cgroup-driver.ts); /status shows what it found.
export function cgroupDriverStep(after: string[]): Step {
  return {
    id: 'cgroup-driver',
    title: 'cgroup driver: kubelet, containerd and the host agree',
    phase: 'runtime',
    after,
    async check(ctx) {
      const k = ctx.config.agent.kubelet;
      const live = await liveStatus(ctx);
      // the verdict is about kubelet beside a running containerd: before it runs (a plan on
      // a fresh host) there is nothing to compare yet
      if (live === null) return { state: 'skip', reason: 'containerd is not running yet: checked once it runs' };
      const eff = live.status ? effectiveCriConfig(live.status.info) : null;
      const version = await containerdVersionOutput(ctx);
      const kubeletFile = await ctx.files.read(paths.kubeletConfig);
      let fileDriver: string | undefined;
      try {
        fileDriver = kubeletFile ? ((parse(kubeletFile) as { cgroupDriver?: string } | null)?.cgroupDriver ?? undefined) : undefined;
      } catch {
        fileDriver = undefined;
      }
      const driver = k.cgroupDriver ?? DEFAULT_CGROUP_DRIVER;
      // a plan where containerd-config would restart containerd: it will run with
      // SystemdCgroup from kubelet.cgroupDriver, not with what it runs with now (e.g. the
      // original config.toml after reset --all)
      const restarting = ctx.dryRun && ctx.published.containerdRestartPending === true;
      const facts: CgroupFacts = {
        driver,
        configured: k.cgroupDriver !== undefined,
        systemdInit: await ctx.files.exists(paths.systemdRunning),
        mode: await cgroupMode(ctx.files),
        containerdSystemdCgroup: restarting ? driver === 'systemd' : eff?.systemdCgroup,
        containerdMajor: version.exitCode === 0 ? parseContainerdVersion(version.stdout)?.major : undefined,
        kubeletFileDriver: fileDriver,
      };
      const v = cgroupVerdict(facts);
      ctx.publish('cgroup', { driver: facts.driver, containerdSystemdCgroup: facts.containerdSystemdCgroup, mode: facts.mode, systemdInit: facts.systemdInit });
      for (const w of v.warnings) ctx.warn(`cgroup driver: ${w.message}`, w.hint);
      if (v.errors.length) throw new StepError(`cgroup driver: ${v.errors.map((e) => e.message).join('; ')}`, v.errors.map((e) => e.hint).join('; '));
      return { state: 'ok', message: v.summary };
    },
    async apply() {
      // check() passes or throws: the containerd-config step and kubelet-config fix what differs
    },
  };
}
