import { promises as fs } from 'node:fs';
import type { Node } from 'yaml';
import { registerSecret } from '../host/redact.js';
import { DiscoveryKubeconfigError, parseDiscoveryKubeconfig } from '../join/discovery-kubeconfig.js';
import { isHttpsUrl, joinHostPort } from './formats.js';
import type { JoinDocument } from './types.js';
import { report, type WalkContext } from './walk.js';

export interface DiscoveryMethodResult {
  /** The discovery kubeconfig carries credentials for the TLS bootstrap (undefined: an
   * https:// URL, known only when fetched; or not file discovery). */
  fileCredentials?: boolean;
}

// kubeadm's ValidateDiscovery: exactly one of bootstrapToken and file. For a file, the
// kubeconfig is read now, as kubeadm reads it (discovery-kubeconfig.ts), so a missing CA
// or server is reported at its line before anything runs; its server becomes the
// endpoint node-IP detection and /status use. A token inside it is a secret from here on.
export async function checkDiscoveryMethod(ctx: WalkContext, root: Node, join: JoinDocument): Promise<DiscoveryMethodResult> {
  const d = (join.raw.discovery ?? {}) as { bootstrapToken?: unknown; file?: { kubeConfigPath?: string }; tlsBootstrapToken?: string };
  const at = ctx.keys?.get('discovery') ?? root;
  if (d.tlsBootstrapToken) registerSecret(d.tlsBootstrapToken);
  if (!ctx.nodes.has('discovery')) return {};
  if (d.bootstrapToken === undefined && d.file === undefined && !ctx.nodes.has('discovery.bootstrapToken') && !ctx.nodes.has('discovery.file')) {
    report(ctx, 'discovery', at, 'bootstrapToken or file must be set (kubeadm): a bootstrap token with apiServerEndpoint, or file.kubeConfigPath');
    return {};
  }
  if (ctx.nodes.has('discovery.bootstrapToken') && ctx.nodes.has('discovery.file')) {
    report(ctx, 'discovery.file', ctx.keys?.get('discovery.file'), 'bootstrapToken and file cannot both be set (kubeadm): keep one discovery method');
    return {};
  }
  const path = d.file?.kubeConfigPath;
  if (!path) return {};
  if (isHttpsUrl(path)) return {};
  const node = ctx.nodes.get('discovery.file.kubeConfigPath');
  const text = await fs.readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    report(ctx, 'discovery.file.kubeConfigPath', node, `${path}: ${e.code === 'ENOENT' ? 'no such file (kubeadm: "not a valid HTTPS URL or a file on disk")' : e.code === 'EACCES' ? 'permission denied' : (e.code ?? String(e))}`);
    return null;
  });
  if (text === null) return {};
  try {
    const kc = await parseDiscoveryKubeconfig(text, path, (p) => fs.readFile(p, 'utf8').catch(() => null));
    if (kc.auth.token) registerSecret(kc.auth.token);
    join.apiServerEndpoint = joinHostPort(kc.host, kc.port);
    if (kc.insecure) report(ctx, 'discovery.file.kubeConfigPath', node, `${path} sets insecure-skip-tls-verify: the control plane is not authenticated; put the cluster CA in it (certificate-authority-data)`, 'warning');
    return { fileCredentials: kc.auth.kind !== 'none' };
  } catch (e) {
    if (!(e instanceof DiscoveryKubeconfigError)) throw e;
    report(ctx, 'discovery.file.kubeConfigPath', node, e.message);
    return {};
  }
}
