import { StepError, type Step } from '../../engine/step.js';
import { nodeFamilies } from '../../config/networking.js';
import { configuredEndpoint } from '../../join/discover-config.js';
import { chooseNodeIP } from '../../join/nodeip.js';
import { userNodeIP } from '../../join/render.js';

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
    return { state: 'ok', message: `${choice.ip} (${choice.how})` };
  },
  async apply() {
    // a decision, not a host change
  },
};
