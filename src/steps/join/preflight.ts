import os from 'node:os';
import type { LoadedConfig } from '../../config/types.js';
import { StepError, type Step, type StepContext } from '../../engine/step.js';
import { readCluster, TokenRefused, type ClusterView } from '../../join/cluster-read.js';
import { discoverConfiguredShared } from '../../join/discover-config.js';
import { splitToken } from '../../join/jws.js';
import { inspectLocal, joinVerdict } from '../../join/local.js';
import { machineIdVerdict } from '../../join/machine-id.js';
import { nodeNameVerdict } from '../../join/node-name.js';
import { preflightFindings, type Finding } from '../../join/preflight-checks.js';
import { tokenHome } from '../../join/token-recheck.js';
import { parseProcSwaps } from '../host/swap.js';
import { hostFiles } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import { resolvConfVerdict, type ResolvVerdict } from '../../join/resolv-conf.js';
import { operatorResolvConf, readResolvHost } from '../../join/resolv-facts.js';
import { RESOLV_PATCH } from './patches.js';

export interface PreflightPublished {
  checkedAt: string;
  nodeName: string;
  serverVersion?: string;
  clusterVersion?: string;
  kubelet?: ClusterView['kubelet'];
  node?: { exists: boolean; ready?: boolean; lastHeartbeat?: string };
  /** When the API server last accepted the bootstrap token (for "expired since"). */
  tokenAcceptedAt?: string;
  /** The kubelet's resolvConf against this host; fix = the file this node's kubelet gets instead. */
  resolvConf?: ResolvVerdict;
  findings: Finding[];
}

// Know before you join: runs first, before any host step changes anything, and refuses
// what would make the join or the node fail (a node name Kubernetes rejects, a version the skew policy forbids, a cgroup driver containerd would
// contradict, swap against failSwapOn, a Node of this name already there), each in one
// line with the next action. It reads the cluster with the bootstrap token's own rights
// (join/cluster-read.ts); a control plane that is not reachable yet is not a refusal:
// the discovery step tries again (with retries) after the host is prepared.
export const preflightStep: Step = {
  id: 'preflight',
  title: 'Preflight: node name, machine identity, and what the cluster expects of this node',
  phase: 'join',
  async check(ctx) {
    const { config } = ctx;
    const local = joinVerdict(await inspectLocal(ctx.files), config.join.caCertHashes);
    if (local.state === 'joined') return { state: 'ok', message: 'already joined (kubelet.conf present): cluster preflight not needed' };
    const name = nodeNameVerdict(config.join.nodeName, ctx.facts.hostname);
    if (name.error) throw new StepError(`preflight: ${name.error}`, name.hint);
    if (name.warning) ctx.warn(`preflight: ${name.warning}`, name.hint);
    const mid = machineIdVerdict(ctx.facts.machineId);
    if (mid.error) throw new StepError(`preflight: ${mid.error}`, mid.hint);
    // node-labels the kubelet refuses are config errors (config/node-labels.ts): never here
    if (!config.token) return { state: 'skip', reason: 'no bootstrap token: the cluster is not read before the join (the discovery step says what is missing)' };

    const d = await discoverConfiguredShared(config, undefined, ctx.signal);
    if (!d.ok) {
      if (d.retryable) {
        ctx.warn(`preflight: the control plane is not reachable now (${d.failure!.message}): the cluster checks run again at the discovery step, after the host is prepared`, d.failure!.hint);
        return { state: 'ok', message: `node name "${name.name}" valid; control plane not reachable yet: cluster not compared` };
      }
      throw new StepError(`discovery: ${d.failure!.message}`, d.failure!.name === 'token' ? newTokenHint(config) : d.failure!.hint);
    }
    const apiServer = d.apiServer ?? config.join.apiServerEndpoint;
    let cluster: ClusterView;
    try {
      cluster = await readCluster({ apiServer, caPem: d.caPem, token: config.token, nodeName: name.name, signal: ctx.signal });
    } catch (e) {
      if (e instanceof TokenRefused) throw new StepError(`discovery: bootstrap token "${splitToken(config.token).id}" is unknown or expired: the API server refused it (401)`, newTokenHint(config));
      throw new StepError(`preflight: reading the cluster's configuration failed: ${(e as Error).message}`, 'check the control plane; the next run tries again', true, { cause: e });
    }
    for (const n of cluster.notes) ctx.warn(`preflight: ${n}`);
    const resolv = cluster.kubelet ? await judgeResolvConf(ctx, cluster.kubelet.resolvConf) : undefined;
    const findings = preflightFindings({
      kubernetesVersion: config.agent.kubernetesVersion,
      serverVersion: d.serverVersion,
      cluster,
      nodeName: name.name,
      kubeletCgroupDriver: config.agent.kubelet.cgroupDriver,
      kubeletFailSwapOn: config.agent.kubelet.failSwapOn,
      swapMode: config.agent.host.swap,
      swapActive: parseProcSwaps((await ctx.files.read('/proc/swaps')) ?? '').length > 0,
      existingNode: config.agent.join.existingNode ?? 'refuse',
      localIPs: Object.values(os.networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address)),
      machineId: ctx.facts.machineId,
      resolv,
      resolvPatch: `${paths.patchesDir}/${RESOLV_PATCH}`,
    });
    publish(ctx, { checkedAt: new Date().toISOString(), nodeName: name.name, serverVersion: d.serverVersion, clusterVersion: cluster.kubeadmVersion, kubelet: cluster.kubelet, node: cluster.node === undefined ? undefined : { exists: cluster.node !== null, ready: cluster.node?.ready, lastHeartbeat: cluster.node?.lastHeartbeat }, tokenAcceptedAt: new Date().toISOString(), resolvConf: resolv, findings });
    for (const f of findings) if (f.level !== 'error') ctx.warn(`preflight: ${f.message}`, f.hint);
    const errors = findings.filter((f) => f.level === 'error');
    if (errors.length) throw new StepError(`preflight: ${errors.map((f) => f.message).join('; ')}`, errors.map((f) => f.hint).filter(Boolean).join('; '));
    return { state: 'ok', message: `node "${name.name}": cluster ${cluster.kubeadmVersion ?? d.serverVersion}, kubelet-config ${cluster.kubelet ? `cgroupDriver ${cluster.kubelet.cgroupDriver ?? 'systemd'}` : 'not read'}, ${cluster.node === null ? 'no Node of this name yet' : cluster.node ? `Node exists (${cluster.node.ready ? 'Ready' : 'NotReady'})` : 'Node not read'}` };
  },
  async apply() {
    // check() passes or throws: nothing on this host to change
  },
};

// The cluster's resolvConf (or kubeadm's per-node choice when it is unset) against this
// host's resolver; the operator's own patches.directory (read at its real path, like the
// config) may set it, and then it is theirs.
async function judgeResolvConf(ctx: StepContext, cluster: string | undefined): Promise<ResolvVerdict> {
  const operator = await operatorResolvConf(hostFiles('/', true), ctx.config.join.patchesDir);
  const host = await readResolvHost(ctx.files, ctx.proc, [cluster, operator]);
  return resolvConfVerdict({ cluster, operator, host });
}

function publish(ctx: StepContext, p: PreflightPublished): void {
  ctx.publish('preflight', p);
}

function newTokenHint(config: LoadedConfig): string {
  return `tokens live 24h: run \`kubeadm token create\` on the control plane and put the new token in ${tokenHome(config)}${config.tokenSource === 'file' ? ' (the running agent reads the file again at its next attempt)' : ''}`;
}
