import { nodeLabelProblems } from '../join/node-labels.js';
import { report, type WalkContext } from './walk.js';

// node-labels in kubeletExtraArgs that the kubelet would refuse at start are config
// errors, reported by `validate` and every command before anything runs: kubeadm would
// write them into kubeadm-flags.env and the kubelet would exit at its first start, after
// the host had been prepared and the join begun. Each problem points at the value's line.
// `extra` is nodeRegistration.kubeletExtraArgs as walked: v1beta4 a list of {name, value}
// (indexes as written, so the field path matches the file), v1beta3 a map flag -> value.
export function checkNodeLabels(joinCtx: WalkContext, extra: unknown): void {
  const at = (path: string, value: unknown): void => {
    if (typeof value !== 'string') return;
    const node = joinCtx.nodes.get(path) ?? joinCtx.nodes.get('nodeRegistration.kubeletExtraArgs');
    for (const m of nodeLabelProblems(value)) report(joinCtx, path, node, m);
  };
  if (Array.isArray(extra)) {
    extra.forEach((a: { name?: unknown; value?: unknown } | undefined, i) => {
      if (a?.name === 'node-labels') at(`nodeRegistration.kubeletExtraArgs[${i}].value`, a.value);
    });
  } else if (extra && typeof extra === 'object' && Object.hasOwn(extra, 'node-labels')) {
    at('nodeRegistration.kubeletExtraArgs.node-labels', (extra as Record<string, unknown>)['node-labels']);
  }
}
