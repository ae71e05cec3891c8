import type { LoadedConfig } from '../config/types.js';
import { StepError, type StepContext } from '../engine/step.js';
import { paths } from '../host/paths.js';
import { inspectKubeletCerts } from './kubelet-certs.js';
import { parseKubeconfig } from './kubeconfig.js';
import { waitKubeletHealthy } from './kubelet.js';
import { NEW_TOKEN_HINT, recheckToken, tokenHome } from './token-recheck.js';

// A node whose kubelet client certificate expired while it was off (kubernetes/kubernetes
// #78758) can no longer reach the API server, and the kubelet will not rotate it. With a
// new bootstrap token, it is bootstrapped again the way kubeadm hands a fresh node to the
// kubelet: /etc/kubernetes/bootstrap-kubelet.conf (the cluster's server and CA, the token)
// and no kubelet.conf, then a kubelet restart; the kubelet makes a new key and CSR and
// writes kubelet.conf again. The Node object and everything on it stays.
export const REBOOTSTRAP = 're-bootstrap the kubelet';

export async function expiredClientCert(ctx: Pick<StepContext, 'files'>, now = Date.now()): Promise<string | undefined> {
  const c = await inspectKubeletCerts(ctx.files);
  return c.clientNotAfter && Date.parse(c.clientNotAfter) <= now ? c.clientNotAfter : undefined;
}

export function rebootstrapRefusal(config: LoadedConfig, notAfter: string): StepError {
  return new StepError(`the kubelet's client certificate expired at ${notAfter}: the node cannot reach the API server, and the kubelet does not renew an expired certificate`, `put a new bootstrap token in ${tokenHome(config)} (\`kubeadm token create\` on the control plane): joinagent then bootstraps the kubelet again`);
}

// The kubeconfig kubeadm writes for the TLS bootstrap (user tls-bootstrap-token-user).
export function renderBootstrapKubeconfig(server: string, caPem: string, token: string): string {
  return `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}\n    server: ${server}\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: tls-bootstrap-token-user\n  name: tls-bootstrap-token-user@kubernetes\ncurrent-context: tls-bootstrap-token-user@kubernetes\nkind: Config\npreferences: {}\nusers:\n- name: tls-bootstrap-token-user\n  user:\n    token: ${token}\n`;
}

export async function rebootstrapKubelet(ctx: StepContext, nodeName: string): Promise<void> {
  const { config } = ctx;
  if (!config.token) throw rebootstrapRefusal(config, (await expiredClientCert(ctx)) ?? 'an earlier time');
  await recheckToken(config, nodeName, undefined, ctx.signal).catch((e: unknown) => {
    throw e instanceof StepError ? new StepError(e.message, NEW_TOKEN_HINT) : e;
  });
  const kc = parseKubeconfig((await ctx.files.read(paths.kubeletConf)) ?? '', paths.kubeletConf);
  const ca = kc.caPem ?? (await ctx.files.read(paths.kubeCaCert));
  if (!ca) throw new StepError(`${paths.kubeCaCert} is missing: cannot bootstrap the kubelet again`, '`kubeadm reset --force` and join again');
  await ctx.files.write(paths.bootstrapKubeletConf, renderBootstrapKubeconfig(kc.server, ca, config.token), { mode: 0o600, backup: false });
  await ctx.files.remove(paths.kubeletConf);
  await ctx.files.remove(paths.kubeletClientCert);
  await ctx.proc.run('systemctl', ['restart', 'kubelet'], { allowFailure: true });
  // the kubelet writes kubelet.conf once its new certificate is signed
  for (let i = 0; i < 60 && !(await ctx.files.exists(paths.kubeletConf)); i++) await new Promise((r) => setTimeout(r, 1000));
  await ctx.files.remove(paths.bootstrapKubeletConf, { backup: false });
  if (!(await ctx.files.exists(paths.kubeletConf)) || !(await waitKubeletHealthy(60_000, ctx.signal))) {
    throw new StepError('the kubelet did not finish its TLS bootstrap with the new token (no kubelet.conf after 60 s)', '`journalctl -u kubelet -n 50`: is its CSR approved (`kubectl get csr`)?', true);
  }
}
