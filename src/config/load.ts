import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { DEFAULT_STATUS_ADDRESS } from '../host/paths.js';
import { redact, registerSecret, registerSecretsIn } from '../host/redact.js';
import { pauseImageFor, UnknownKubernetesMinor } from '../runtime/images.js';
import { parseDuration, TOKEN_RE } from './formats.js';
import { checkDiscoveryMethod } from './discovery-method.js';
import { kubeletSettings } from './kubelet.js';
import { networkingProblems } from './networking.js';
import { checkNodeLabels } from './node-labels.js';
import { checkKubeletConfig } from './patches.js';
import { agentSpec, DEFAULT_FIREWALL_PORTS, joinSpec } from './schema.js';
import { checkSites } from './sites.js';
import type { AgentConfig, JoinDocument, KubeletArg, LoadedConfig, TokenSource } from './types.js';
import { repositories, repositoryWarnings } from './repositories.js';
import { position, report, suggest, walk, type Problem, type WalkContext } from './walk.js';

export const MAX_CONFIG_BYTES = 1024 * 1024;

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(formatProblems(file, problems.filter((p) => p.severity === 'error')));
    this.name = 'ConfigError';
  }
}

export function formatProblems(file: string, problems: Problem[]): string {
  return redact(
    problems
      .map((p) => `${file}:${p.line}:${p.col}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.path ? `${p.path}: ` : ''}${p.message}`)
      .join('\n'),
  );
}

export interface LoadOptions {
  /** Where to look for the systemd credential (default $CREDENTIALS_DIRECTORY). */
  credentialsDir?: string;
  /** Commands that join need a token; `prepare` (golden images) does not. */
  requireToken?: boolean;
}

export interface LoadResult {
  config: LoadedConfig;
  warnings: Problem[];
}

// Reads and validates the config file. Every problem is collected before failing, so
// the operator fixes the file once; nothing here touches the host.
export async function loadConfig(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const problems: Problem[] = [];
  const fail = (message: string, p = ''): never => {
    throw new ConfigError(file, [{ path: p, message, line: 1, col: 1, severity: 'error' }]);
  };
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (e) {
    fail(`cannot read config: ${errnoText(e)} (pass --config PATH or create ${file})`);
  }
  if (!stat!.isFile()) fail('is not a regular file');
  if (stat!.size > MAX_CONFIG_BYTES) fail(`file is ${stat!.size} bytes; a config is at most ${MAX_CONFIG_BYTES} bytes`);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    return fail(`cannot read config: ${errnoText(e)}`);
  }
  if (text.trim() === '') fail('file is empty: it needs an AgentConfiguration and a JoinConfiguration document');
  if (text.includes('\0')) fail('file is binary, not YAML');
  // before any message: a token pasted anywhere (wrong field, a list, a key) is a secret
  registerSecretsIn(text);

  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const ctx: WalkContext = { lines, problems, nodes: new Map(), keys: new Map() };
  if (!Array.isArray(docs)) fail('not a YAML stream');
  for (const d of docs as Document[]) {
    for (const err of d.errors) {
      const p = lines.linePos(err.pos[0]);
      problems.push({ path: '', message: `YAML syntax: ${err.message.split('\n')[0]}`, line: p.line, col: p.col, severity: 'error' });
    }
  }
  if (problems.length) throw new ConfigError(file, problems);

  let agentNode: { node: Node; doc: Document } | undefined;
  let joinNode: { node: Node; doc: Document; version: 'v1beta3' | 'v1beta4' } | undefined;
  for (const d of docs as Document[]) {
    const node = d.contents as Node | null;
    if (node === null || (isScalar(node) && node.value === null)) continue;
    if (!isMap(node)) {
      report(ctx, '', node, 'each document must be a mapping with apiVersion and kind');
      continue;
    }
    const kind = scalarAt(node, 'kind');
    const apiVersion = scalarAt(node, 'apiVersion');
    // problems with the kind are reported on the kind line, not the document's first
    const kindAt = (node.get('kind', true) as Node | undefined) ?? node;
    if (kind === 'AgentConfiguration') {
      if (agentNode) report(ctx, 'kind', node, 'a second AgentConfiguration document: only one is allowed');
      else agentNode = { node, doc: d };
    } else if (kind === 'JoinConfiguration') {
      const version = apiVersion === 'kubeadm.k8s.io/v1beta3' ? 'v1beta3' : 'v1beta4';
      if (joinNode) report(ctx, 'kind', node, 'a second JoinConfiguration document: only one is allowed');
      else joinNode = { node, doc: d, version };
    } else if (kind === undefined) {
      report(ctx, 'kind', kindAt, kindAt === node ? 'document has no "kind" (AgentConfiguration or JoinConfiguration)' : 'kind must be AgentConfiguration or JoinConfiguration');
    } else if (['InitConfiguration', 'ClusterConfiguration'].includes(kind)) {
      report(ctx, 'kind', kindAt, `${kind} is for control-plane nodes; a worker needs only a JoinConfiguration`);
    } else {
      report(ctx, 'kind', kindAt, `unknown kind "${kind}" (expected AgentConfiguration or JoinConfiguration)${suggest(kind, ['AgentConfiguration', 'JoinConfiguration'])}`);
    }
  }
  if (!agentNode) report(ctx, '', undefined, 'no AgentConfiguration document (apiVersion: joinagent.io/v1alpha1, kind: AgentConfiguration)');
  if (!joinNode) report(ctx, '', undefined, 'no JoinConfiguration document (apiVersion: kubeadm.k8s.io/v1beta4, kind: JoinConfiguration)');

  const agentRaw = agentNode ? (walk(ctx, agentSpec, agentNode.node, '') as Record<string, unknown>) : {};
  const joinCtx: WalkContext = { lines, problems, nodes: new Map(), keys: new Map() };
  const joinRaw = joinNode ? (walk(joinCtx, joinSpec(joinNode.version), joinNode.node, '') as Record<string, unknown>) : {};

  const agent = withDefaults(agentRaw);
  const join = normaliseJoin(joinRaw, joinNode?.version ?? 'v1beta4');

  // cross-field checks, each pointed at the node that is wrong
  const method = joinNode ? await checkDiscoveryMethod(joinCtx, joinNode.node, join) : {};
  const fileDiscovery = join.discovery?.kind === 'file';
  // the TLS bootstrap's token: the bootstrap token, or with file discovery tlsBootstrapToken
  const tokenKey = fileDiscovery ? 'discovery.tlsBootstrapToken' : 'discovery.bootstrapToken.token';
  const disc = joinRaw.discovery as { bootstrapToken?: { token?: string }; tlsBootstrapToken?: string } | undefined;
  const tokenInline = fileDiscovery ? disc?.tlsBootstrapToken : disc?.bootstrapToken?.token;
  if (tokenInline) registerSecret(tokenInline);
  let token: string | undefined = tokenInline;
  let tokenSource: TokenSource = tokenInline ? 'inline' : 'none';
  let tokenPath: string | undefined;
  const tokenFile = agent.join.tokenFile;
  if (tokenFile && tokenInline) {
    report(joinCtx, tokenKey, joinCtx.nodes.get(tokenKey), `token is given both inline and in join.tokenFile (${tokenFile}): keep one`);
  } else if (tokenFile) {
    const r = await readTokenFile(tokenFile);
    // joinagent removes the token file after a successful join; a joined node's next
    // run (requireToken false) must still load
    if (r.missing && opts.requireToken === false) tokenPath = tokenFile;
    else if (r.error) report(ctx, 'join.tokenFile', ctx.nodes.get('join.tokenFile'), r.error);
    else {
      ({ token, tokenSource, tokenPath } = { token: r.token, tokenSource: 'file', tokenPath: tokenFile });
      if (r.mode !== undefined && (r.mode & 0o077) !== 0) {
        report(ctx, 'join.tokenFile', ctx.nodes.get('join.tokenFile'), `${tokenFile} holds the bootstrap token and is readable by group/others (mode ${(r.mode & 0o777).toString(8)}): chmod 600 ${tokenFile}`, 'warning');
      }
    }
  } else if (!tokenInline) {
    const credDir = opts.credentialsDir ?? process.env.CREDENTIALS_DIRECTORY;
    if (credDir) {
      const credPath = path.join(credDir, 'join-token');
      const r = await readTokenFile(credPath);
      if (!r.error) ({ token, tokenSource, tokenPath } = { token: r.token, tokenSource: 'credential', tokenPath: credPath });
      else if (opts.requireToken && method.fileCredentials !== true) report(joinCtx, tokenKey, joinCtx.nodes.get(fileDiscovery ? 'discovery.file' : 'discovery.bootstrapToken'), `no inline token and the systemd credential failed: ${r.error}`);
    } else if (opts.requireToken && joinNode && !fileDiscovery) {
      report(joinCtx, tokenKey, joinCtx.keys?.get('discovery.bootstrapToken') ?? joinNode.node, 'no bootstrap token: set it here, or join.tokenFile, or pass it as the systemd credential "join-token"');
    } else if (opts.requireToken && joinNode && method.fileCredentials === false) {
      report(joinCtx, tokenKey, joinCtx.keys?.get('discovery.file') ?? joinNode.node, 'the discovery kubeconfig has no credentials and there is no bootstrap token for the TLS bootstrap: set discovery.tlsBootstrapToken, join.tokenFile, or pass the systemd credential "join-token" (kubeadm: "couldn\'t find authentication credentials for the TLS bootstrap process")');
    }
  }
  if (joinNode && join.caCertHashes.length === 0 && !join.unsafeSkipCAVerification && joinCtx.nodes.has('discovery.bootstrapToken')) {
    report(joinCtx, 'discovery.bootstrapToken.caCertHashes', joinCtx.keys?.get('discovery.bootstrapToken'), 'no caCertHashes: pin the cluster CA (run `joinagent ca-hash` on the control plane) or set unsafeSkipCAVerification: true');
  }
  if (join.unsafeSkipCAVerification && join.caCertHashes.length === 0) {
    report(joinCtx, 'discovery.bootstrapToken.unsafeSkipCAVerification', joinCtx.nodes.get('discovery.bootstrapToken.unsafeSkipCAVerification'), 'the control plane is not authenticated: anyone who can intercept the connection can impersonate it; pin the CA with caCertHashes (get the value with `joinagent ca-hash` on the control plane)', 'warning');
  }
  if (tokenInline && (stat!.mode & 0o077) !== 0) {
    report(joinCtx, tokenKey, joinCtx.nodes.get(tokenKey), `the file holds the bootstrap token and is readable by group/others (mode ${(stat!.mode & 0o777).toString(8)}): chmod 600 ${file}`, 'warning');
  }
  for (const [p, kind] of [['images.archives', 'dir'], ['repositories.kubernetes.key', 'file'], ['repositories.docker.key', 'file']] as const) {
    const v = getPath(agentRaw, p);
    if (typeof v === 'string' && v.startsWith('/')) {
      const err = await checkExists(v, kind);
      if (err) report(ctx, p, ctx.nodes.get(p), err);
    }
  }
  // the pause image is per minor (kubeadm's constants); a minor joinagent has no entry
  // for is refused here rather than half-way through a run
  if (typeof agentRaw.kubernetesVersion === 'string' && agentRaw.kubernetesVersion !== 'cluster') {
    try {
      pauseImageFor(agentRaw.kubernetesVersion);
    } catch (e) {
      if (e instanceof UnknownKubernetesMinor) report(ctx, 'kubernetesVersion', ctx.nodes.get('kubernetesVersion'), e.message.replace(/^kubernetesVersion /, ''));
      else throw e;
    }
  }
  for (const p of networkingProblems(agent)) report(ctx, p.path, ctx.nodes.get(p.path), p.message, p.severity);
  await checkKubeletConfig(ctx, joinCtx, agent, join);
  checkNodeLabels(joinCtx, getPath(joinRaw, 'nodeRegistration.kubeletExtraArgs'));
  await checkSites(ctx, agentRaw, agent, stat!.mode);
  for (const w of repositoryWarnings(agent)) report(ctx, w.path, ctx.nodes.get(w.path), w.message, 'warning');
  const statusHost = agent.status.address.replace(/:\d+$/, '');
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(statusHost)) {
    report(ctx, 'status.address', ctx.nodes.get('status.address'), `status is served on ${agent.status.address}, beyond loopback: anyone who can reach it sees this node's state`, 'warning');
  }

  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new ConfigError(file, problems);
  return { config: { file, agent, join, token, tokenSource, tokenPath }, warnings: problems.filter((p) => p.severity === 'warning') };
}

function withDefaults(raw: Record<string, unknown>): AgentConfig {
  const g = <T>(p: string, d: T): T => (getPath(raw, p) as T | undefined) ?? d;
  return {
    kubernetesVersion: g('kubernetesVersion', ''),
    host: {
      timezone: g<string | undefined>('host.timezone', undefined),
      ntp: g('host.ntp', true),
      selinux: g('host.selinux', 'permissive'),
      firewall: g('host.firewall', 'disable'),
      firewallPorts: g('host.firewallPorts', DEFAULT_FIREWALL_PORTS),
      swap: g('host.swap', 'disable'),
      packageLockWait: parseDuration(g('host.packageLockWait', '2m')) ?? 120_000,
      hosts: g('host.hosts', []),
    },
    containerd: {
      source: g('containerd.source', 'docker'),
      version: g<string | undefined>('containerd.version', undefined),
      registryMirrors: g('containerd.registryMirrors', {}),
    },
    repositories: repositories(g('repositories', {})),
    images: { repository: g('images.repository', 'registry.k8s.io'), archives: g<string | undefined>('images.archives', undefined) },
    nodeIP: g('nodeIP', 'auto'),
    networking: { podSubnet: g<string | undefined>('networking.podSubnet', undefined), serviceSubnet: g<string | undefined>('networking.serviceSubnet', undefined) },
    kubelet: kubeletSettings(getPath(raw, 'kubelet')),
    join: {
      tokenFile: g<string | undefined>('join.tokenFile', undefined),
      resetOnFailure: g('join.resetOnFailure', false),
      sentinelFile: g<string | undefined>('join.sentinelFile', undefined),
      timeout: parseDuration(g('join.timeout', '10m')) ?? 600_000,
      waitForReady: parseDuration(g('join.waitForReady', '2m')) ?? 120_000,
      existingNode: g('join.existingNode', 'refuse'),
    },
    status: { address: g('status.address', DEFAULT_STATUS_ADDRESS) },
    reconcile: { interval: parseDuration(g('reconcile.interval', '5m')) ?? 300_000, mode: g('reconcile.mode', 'repair') },
    upgrade: {
      drainKubeconfig: g<string | undefined>('upgrade.drainKubeconfig', undefined),
      drainTimeout: parseDuration(g('upgrade.drainTimeout', '5m')) ?? 300_000,
      waitForReady: parseDuration(g('upgrade.waitForReady', '3m')) ?? 180_000,
    },
    // proxy and registries are filled by checkSites (secrets resolved, files checked)
    registries: {},
  };
}

function normaliseJoin(raw: Record<string, unknown>, version: 'v1beta3' | 'v1beta4'): JoinDocument {
  const bt = (getPath(raw, 'discovery.bootstrapToken') ?? {}) as Record<string, unknown>;
  const extra = getPath(raw, 'nodeRegistration.kubeletExtraArgs');
  let kubeletExtraArgs: KubeletArg[] = [];
  if (Array.isArray(extra)) kubeletExtraArgs = extra.filter(Boolean) as KubeletArg[];
  else if (extra && typeof extra === 'object') kubeletExtraArgs = Object.entries(extra).map(([name, value]) => ({ name, value: String(value) }));
  const kubeConfigPath = getPath(raw, 'discovery.file.kubeConfigPath');
  return {
    apiVersion: `kubeadm.k8s.io/${version}`,
    raw,
    discovery: typeof kubeConfigPath === 'string' ? { kind: 'file', kubeConfigPath } : { kind: 'token' },
    apiServerEndpoint: (bt.apiServerEndpoint as string) ?? '',
    caCertHashes: ((bt.caCertHashes as string[]) ?? []).filter(Boolean),
    unsafeSkipCAVerification: bt.unsafeSkipCAVerification === true,
    criSocket: (getPath(raw, 'nodeRegistration.criSocket') as string) ?? 'unix:///run/containerd/containerd.sock',
    nodeName: getPath(raw, 'nodeRegistration.name') as string | undefined,
    patchesDir: getPath(raw, 'patches.directory') as string | undefined,
    kubeletExtraArgs,
  };
}

export async function readTokenFile(p: string): Promise<{ token?: string; error?: string; missing?: boolean; mode?: number }> {
  let text: string;
  let st;
  try {
    st = await fs.stat(p);
    if (!st.isFile()) return { error: `${p} is not a regular file` };
    if (st.size > 4096) return { error: `${p} is ${st.size} bytes: not a bootstrap token file` };
    text = await fs.readFile(p, 'utf8');
  } catch (e) {
    return { error: `cannot read ${p}: ${errnoText(e)}`, missing: (e as NodeJS.ErrnoException).code === 'ENOENT' };
  }
  const t = text.trim();
  if (t === '') return { error: `${p} is empty: it must hold the bootstrap token (e.g. 07401b.f395accd246ae52d)` };
  if (!TOKEN_RE.test(t)) return { error: `${p} does not hold a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16} (content not shown)` };
  registerSecret(t);
  return { token: t, mode: st.mode };
}

async function checkExists(p: string, kind: 'file' | 'dir'): Promise<string | undefined> {
  try {
    const st = await fs.stat(p);
    if (kind === 'dir' && !st.isDirectory()) return `${p} is not a directory`;
    if (kind === 'file' && !st.isFile()) return `${p} is not a regular file`;
    await fs.access(p, fs.constants.R_OK);
    return undefined;
  } catch (e) {
    return `${p}: ${errnoText(e)}`;
  }
}

function scalarAt(node: Node, key: string): string | undefined {
  if (!isMap(node)) return undefined;
  const v = node.get(key, true) as Node | undefined;
  return isScalar(v) && typeof v.value === 'string' ? v.value : undefined;
}

export function getPath(obj: unknown, p: string): unknown {
  let cur: unknown = obj;
  for (const k of p.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? String(e);
}

export { position };
