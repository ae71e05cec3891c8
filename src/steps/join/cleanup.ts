import { parse } from 'yaml';
import { type Change, type Step, type StepContext } from '../../engine/step.js';
import { dropCopies, secretCopies } from '../../host/backup-manifest.js';
import { hostFiles, type Files } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import { clearJoinAttempt } from '../../join/attempt.js';
import { inspectLocal } from '../../join/local.js';
import { renderJoinConfig } from '../../join/render.js';
import { joinPatchesDir, resolvFixOf } from './patches.js';

const STRIP = `remove the bootstrap token from ${paths.joinConfig}`;
const STALE = `remove ${paths.joinAttempt} (the join it records finished: kubelet.conf is there)`;
const COPIES = `remove the backup copies in ${paths.backupDir} that hold a bootstrap token`;

// After the join the bootstrap token is useless to this node (kubelet has its own
// certificate) yet still joins any machine for up to 24h, so it leaves the disk:
// - the rendered JoinConfiguration is kept, without the token;
// - join.tokenFile is removed when it still holds the token that was used (a file
//   rotated to a new token meanwhile belongs to someone else's process and stays);
// - the systemd credential is never touched (systemd owns it, and it is read-only);
// - an inline token stays in the config file: joinagent never edits its own config;
// - backup copies holding a token (an older agent's copies of the config) are removed.
// Also writes join.sentinelFile ("success"), as Cluster API's bootstrap contract wants.
export const joinCleanupStep: Step = {
  id: 'join-cleanup',
  title: 'Remove the bootstrap token from disk, write the sentinel file',
  phase: 'join',
  after: ['join'],
  async check(ctx) {
    if (!(await inspectLocal(ctx.files)).kubeletConf) return { state: 'skip', reason: 'not joined yet' };
    const changes: Change[] = [];
    if (holdsToken(await ctx.files.read(paths.joinConfig))) changes.push({ kind: 'action', description: STRIP });
    const copies = await secretCopies(ctx.files);
    if (copies.length) changes.push({ kind: 'action', description: `${COPIES} (${copies.length})` });
    // the agent stopped between kubeadm's success and its own bookkeeping
    if (await ctx.files.exists(paths.joinAttempt)) changes.push({ kind: 'action', description: STALE });
    const tf = tokenFile(ctx);
    if (tf && (await tf.files.read(tf.path))?.trim() === ctx.config.token) changes.push({ kind: 'action', description: `remove ${tf.path} (join.tokenFile: the token is no longer needed)` });
    const sentinel = ctx.config.agent.join.sentinelFile;
    if (sentinel) {
      const cur = await ctx.files.read(sentinel);
      if (cur !== 'success') changes.push({ kind: 'file', path: sentinel, before: cur, after: 'success' });
    }
    return changes.length ? { state: 'change', changes } : { state: 'ok' };
  },
  async apply(ctx, changes) {
    for (const c of changes) {
      if (c.kind === 'file' && c.after !== null) {
        await ctx.files.write(c.path, c.after, { mode: 0o644 });
      } else if (c.kind === 'action' && c.description === STALE) {
        await clearJoinAttempt(ctx.files);
      } else if (c.kind === 'action' && c.description.startsWith(COPIES)) {
        await dropCopies(ctx.files, await secretCopies(ctx.files));
      } else if (c.kind === 'action' && c.description === STRIP) {
        await ctx.files.write(paths.joinConfig, renderJoinConfig(ctx.config.join, undefined, ctx.published.nodeIP as string | undefined, ctx.config.file, joinPatchesDir(ctx.config, resolvFixOf(ctx))), { mode: 0o600, backup: false });
      } else if (c.kind === 'action') {
        const tf = tokenFile(ctx);
        // never back up a secret
        if (tf) await tf.files.remove(tf.path, { backup: false });
      }
    }
  },
};

// The loader read join.tokenFile as a real path (it is named in the config, like the
// config file itself), so it is removed at that real path, not under --root.
function tokenFile(ctx: StepContext): { files: Files; path: string } | undefined {
  if (ctx.config.tokenSource !== 'file' || !ctx.config.tokenPath || !ctx.config.token) return undefined;
  const files = ctx.files.root === '/' ? ctx.files : hostFiles('/', ctx.files.readOnly);
  return { files, path: ctx.config.tokenPath };
}

function holdsToken(text: string | null): boolean {
  if (!text) return false;
  try {
    const doc = parse(text) as { discovery?: { bootstrapToken?: { token?: unknown }; tlsBootstrapToken?: unknown } };
    return doc?.discovery?.bootstrapToken?.token !== undefined || doc?.discovery?.tlsBootstrapToken !== undefined;
  } catch {
    return /token:/i.test(text);
  }
}
