import { StepError, type Step } from '../../engine/step.js';
import { nodeFamilies } from '../../config/networking.js';
import { configuredEndpoint } from '../../join/discover-config.js';
import { chooseNodeIP } from '../../join/nodeip.js';
import { extraArgsOf, nodeIPFlag } from '../../join/kubelet-env.js';
import { userNodeIP } from '../../join/render.js';
import { paths } from '../../host/paths.js';
import type { StepContext } from '../../engine/step.js';

// Decides the address kubelet registers (node-ip) and shows it in /status; the join
// step renders it into the JoinConfiguration.
export const nodeIPStep: Step = {
  id: 'node-ip',
  title: 'Choose the node IP',
  phase: 'join',
  async check(ctx) {
    const user = userNodeIP(ctx.config.join);
    if (user) {
      ctx.publish('nodeIP', user);
      await warnOverride(ctx, user);
      return { state: 'ok', message: `${user} (node-ip set in nodeRegistration.kubeletExtraArgs)` };
    }
    let choice;
    try {
      choice = await chooseNodeIP(ctx.config.agent.nodeIP, await configuredEndpoint(ctx.config), ctx.proc, nodeFamilies(ctx.config.agent));
    } catch (e) {
      throw new StepError((e as Error).message, 'set nodeIP to this node\'s cluster-facing address (dual-stack: "IPv4,IPv6"), or interface:NAME', false, { cause: e });
    }
    if (choice.warning) ctx.warn(choice.warning.message, choice.warning.hint);
    ctx.publish('nodeIP', choice.ip);
    await warnOverride(ctx, choice.ip);
    return { state: 'ok', message: `${choice.ip} (${choice.how})` };
  },
  async apply() {
    // a decision, not a host change
  },
};

// An operator's KUBELET_EXTRA_ARGS comes after kubeadm's flags, so its --node-ip is the one
// the kubelet registers: say so when it differs from ours (the Node would show an address
// neither joinagent's /status nor its config names).
async function warnOverride(ctx: StepContext, chosen: string): Promise<void> {
  for (const file of paths.kubeletEnvFiles.filter((f) => f.startsWith('/etc/'))) {
    const text = await ctx.files.read(file);
    const ip = text === null ? undefined : nodeIPFlag(extraArgsOf(text) ?? '');
    if (ip !== undefined && ip !== chosen) {
      ctx.warn(`node-ip: ${file} sets --node-ip=${ip} in KUBELET_EXTRA_ARGS, which the kubelet reads after kubeadm's flags: it will register ${ip}, not ${chosen}`, `remove --node-ip from KUBELET_EXTRA_ARGS in ${file}, or set nodeIP: ${ip} in joinagent's config`);
    }
  }
}
