import { Agent } from '../../../src/agent/converge.js';
import type { LoadedConfig } from '../../../src/config/types.js';
import { StepError, type Step } from '../../../src/engine/step.js';
import { createLogger } from '../../../src/log/logger.js';
import { FakeProc, tempRoot, testConfig } from '../../helpers/fakes.js';

// A tiny world for daemon tests: a managed file, a kubelet service answered by FakeProc,
// and a "join" that fails while the control plane is down. Each step is a real Step, so
// the engine, the reconcile pass, /status and /metrics are exercised as in production.
export interface World {
  agent: Agent;
  proc: FakeProc;
  root: string;
  kubelet: { active: boolean };
  controlPlane: { up: boolean };
  cleanup: () => Promise<void>;
}

export const MANAGED = '/etc/demo/managed.conf';
export const WANTED = 'wanted=1\n';

export function testSteps(w: Pick<World, 'kubelet' | 'controlPlane'>): Step[] {
  return [
    {
      id: 'managed-file',
      title: 'Managed file',
      phase: 'host',
      async check(ctx) {
        const live = await ctx.files.read(MANAGED);
        return live === WANTED ? { state: 'ok' } : { state: 'change', changes: [{ kind: 'file', path: MANAGED, before: live, after: WANTED }] };
      },
      async apply(ctx) {
        await ctx.files.write(MANAGED, WANTED);
      },
    },
    {
      id: 'kubelet-running',
      title: 'kubelet running',
      phase: 'runtime',
      after: ['managed-file'],
      async check(ctx) {
        const r = await ctx.proc.probe('systemctl', ['is-active', 'kubelet'], { allowFailure: true });
        const live = r.stdout.trim();
        return live === 'active' ? { state: 'ok' } : { state: 'change', changes: [{ kind: 'value', name: 'kubelet', live, wanted: 'active' }] };
      },
      async apply(ctx) {
        await ctx.proc.run('systemctl', ['start', 'kubelet']);
      },
    },
    {
      id: 'join',
      title: 'Join the cluster',
      phase: 'join',
      after: ['kubelet-running'],
      async check(ctx) {
        if (!(await ctx.files.exists('/etc/kubernetes/kubelet.conf'))) return { state: 'change', changes: [{ kind: 'action', description: 'kubeadm join' }] };
        ctx.publish('joined', true);
        return { state: 'ok' };
      },
      async apply(ctx) {
        if (!w.controlPlane.up) throw new StepError('cannot reach the API server 192.168.10.100:6443 (connection refused)', 'check that the control plane is up', false);
        await ctx.files.write('/etc/kubernetes/kubelet.conf', 'kubeconfig\n');
      },
    },
  ];
}

export async function world(opts: { config?: Partial<LoadedConfig['agent']>; serve?: boolean; kubeletActive?: boolean; controlPlaneUp?: boolean; steps?: (w: World) => Step[] } = {}): Promise<World> {
  const t = tempRoot('joinagent-daemon-');
  const proc = new FakeProc();
  const w = { proc, root: t.root, kubelet: { active: opts.kubeletActive ?? true }, controlPlane: { up: opts.controlPlaneUp ?? true } } as World;
  proc.on('systemctl is-active kubelet', () => (w.kubelet.active ? { stdout: 'active\n' } : { stdout: 'inactive\n', exitCode: 3 }));
  proc.on('systemctl start kubelet', () => {
    w.kubelet.active = true;
    return {};
  });
  proc.on(/^systemd-notify /, {});
  const config = testConfig({ reconcile: { interval: 40, mode: 'repair' }, status: { address: '127.0.0.1:19760' }, ...opts.config });
  const steps = opts.steps ? opts.steps(w) : testSteps(w);
  w.agent = new Agent(config, { mode: 'run', root: t.root, log: createLogger('json', 'silent'), readOnly: false, serve: opts.serve ?? false, stepSet: 'run', steps: () => steps, files: t.files, proc });
  await w.agent.start();
  w.cleanup = async () => {
    await w.agent.stop();
    t.cleanup();
  };
  return w;
}

// Polls until cond() holds, failing with `what` after timeoutMs.
export async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
