import { parseDocument } from 'yaml';
import type { Step } from '../../engine/step.js';
import { paths } from '../../host/paths.js';
import { fileChange, writeFileChanges } from './file-change.js';

// /etc/crictl.yaml pointing both endpoints at the CRI socket. Other settings the operator
// keeps there (debug, timeout, comments) survive; without the file crictl probes a list
// of deprecated sockets and prints warnings on every call.
export function renderCrictlYaml(current: string | null, criSocket: string): string {
  const doc = current === null ? null : parseDocument(current);
  if (!doc || doc.errors.length || (doc.contents !== null && typeof doc.toJS() !== 'object')) {
    return `runtime-endpoint: ${criSocket}\nimage-endpoint: ${criSocket}\n`;
  }
  if (doc.get('runtime-endpoint') === criSocket && doc.get('image-endpoint') === criSocket) return current!;
  doc.set('runtime-endpoint', criSocket);
  doc.set('image-endpoint', criSocket);
  return doc.toString();
}

// crictl: after packages, so a crictl.yaml shipped by a package is adjusted, not raced.
export const crictlStep: Step = {
  id: 'crictl',
  title: '/etc/crictl.yaml: containerd endpoints',
  phase: 'host',
  after: ['packages'],
  async check(ctx) {
    const current = await ctx.files.read(paths.crictlConfig);
    const c = await fileChange(ctx, paths.crictlConfig, renderCrictlYaml(current, ctx.config.join.criSocket));
    return c ? { state: 'change', changes: [c] } : { state: 'ok', message: `endpoints ${ctx.config.join.criSocket}` };
  },
  async apply(ctx, changes) {
    await writeFileChanges(ctx, changes);
  },
};
