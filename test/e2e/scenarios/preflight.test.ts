import assert from 'node:assert/strict';
import { FLANNEL_CONFLIST, FLANNEL_CONFLIST_PATH } from '../harness/cni.js';
import { after, before } from 'node:test';
import { diffHashes, ensureBinary, hashEtc, statusInNode, waitForStatus } from '../harness/agent.js';
import { assertJoined } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { newToken, renderConfig } from '../harness/config.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';
import type { ControlPlane as Fixture, NodeObject } from '../../fixtures/controlplane.js';

// Know before you join (issue 16): what the cluster says is read with the bootstrap
// token's own rights (the simulated control plane grants exactly kubeadm's bootstrap
// RBAC) before anything on the host changes. Each refusal leaves /etc as it was (sha256
// of every file) and names its cause; the last scenario proceeds: a token that expires
// between the preflight and the join is named with the file to put a new one in, and the
// daemon joins with the new one without a restart.
const SLOT = 30;
let w: World | undefined;
let fx: Fixture;
let hostname = '';

before(async () => {
  const binary = await ensureBinary(log);
  w = await startWorld({ slot: SLOT, log, tokenFile: '/etc/joinagent/token' });
  fx = w.cp!.fixture as unknown as Fixture;
  const { node } = w;
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile('/etc/joinagent/token', `${w.token}\n`, 0o600);
  hostname = (await node.exec(['hostname'])).stdout.trim();
});
after(cleanupAll);

// run --once with a config; the host's /etc must be byte-for-byte as before
async function refused(config: string, cause: RegExp, hint?: RegExp): Promise<string> {
  const { node } = w!;
  await node.writeFile('/root/joinagent.yaml', config, 0o600);
  const before = await hashEtc(node);
  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', '/root/joinagent.yaml', '--log-format', 'pretty'], { allowFailure: true, timeoutMs: 120_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.exitCode, 1, `run --once refuses (exit 1):\n${out}`);
  assert.match(out, cause, `the cause is named:\n${out}`);
  if (hint) assert.match(out, hint, `the next action is named:\n${out}`);
  assert.deepEqual(diffHashes(before, await hashEtc(node)), [], 'nothing under /etc changed');
  assert.equal((await node.exec(['test', '-e', '/etc/kubernetes/kubelet.conf'], { allowFailure: true })).exitCode, 1, 'kubeadm never ran');
  assert.equal((await node.exec(['dpkg-query', '-W', 'kubelet'], { allowFailure: true })).exitCode, 1, 'no package was installed');
  return out;
}

const config = (o: { version?: string; extra?: string } = {}): string => renderConfig({ host: w!.apiHost, repoUrl: w!.repo.url, repoKeyPath: '/etc/joinagent/kubernetes-repo.asc', registry: w!.registry.address, caCertHash: w!.cp!.caCertHash, token: w!.token, tokenFile: '/etc/joinagent/token', ...o });

function node(ready: boolean): NodeObject {
  return {
    metadata: { name: hostname, labels: { 'kubernetes.io/hostname': hostname, 'topology.kubernetes.io/zone': 'rack-2' } },
    spec: {},
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'NodeStatusUnknown', lastHeartbeatTime: '2026-12-01T08:00:00Z' } as never], addresses: [{ type: 'InternalIP', address: '198.18.250.7' }] },
  };
}

scenario('preflight: kubernetesVersion of another minor than the cluster: refused before the host changes', async () => {
  await refused(config({ version: 'v1.31.4' }), /kubernetesVersion v1\.31\.4 differs from the cluster's v1\.32\.11/, /kubernetesVersion: v1\.32\.11 \(or kubernetesVersion: cluster/);
}, () => w?.node);

scenario('preflight: the name is taken by a Ready Node (another machine): refused', async () => {
  fx.nodes.set(hostname, node(true));
  try {
    await refused(config(), new RegExp(`a Node "${hostname}" already exists and is Ready.*198\\.18\\.250\\.7.*another machine has this name`), /nodeRegistration\.name/);
  } finally {
    fx.nodes.delete(hostname);
  }
}, () => w?.node);

scenario('preflight: a reinstalled machine\'s NotReady Node: refused with what to delete and what it keeps', async () => {
  fx.nodes.set(hostname, node(false));
  try {
    await refused(config(), /already exists but is NotReady \(last heartbeat 2026-12-01T08:00:00Z\).*labels topology\.kubernetes\.io\/zone=rack-2/, new RegExp(`kubectl delete node ${hostname}.*join\\.existingNode: adopt`));
  } finally {
    fx.nodes.delete(hostname);
  }
}, () => w?.node);

scenario('preflight: the cluster\'s kubelet-config says cgroupfs, containerd would use systemd: refused', async () => {
  fx.configMaps.options = { kubelet: { cgroupDriver: 'cgroupfs' } };
  try {
    await refused(config(), /the cluster's kubelet-config says cgroupDriver: cgroupfs.*containerd's runc would use the systemd driver/, /set kubelet\.cgroupDriver: cgroupfs/);
  } finally {
    fx.configMaps.options = {};
  }
}, () => w?.node);

scenario('preflight: the token expires between the preflight and the join: named with its file; the daemon joins with a new one', async () => {
  const { node } = w!;
  const id = w!.token.split('.')[0];
  // the token's TTL runs out the moment the preflight has read the Node with it (its
  // last read): from then on the API server refuses it and cluster-info drops its JWS
  const push = fx.requests.push.bind(fx.requests);
  let expired = false;
  fx.requests.push = (...items) => {
    const n = push(...items);
    if (!expired && items.some((q) => q.path === `/api/v1/nodes/${hostname}` && q.user === `system:bootstrap:${id}`)) {
      expired = true;
      queueMicrotask(() => fx.bootstrapTokens.expire(id));
    }
    return n;
  };
  await node.writeFile('/root/joinagent.yaml', config(), 0o600);
  const r = await node.exec(['/root/joinagent', 'install', '--now', '--config', '/root/joinagent.yaml'], { allowFailure: true, timeoutMs: 60_000 });
  assert.equal(r.exitCode, 0, `install --now:\n${r.stdout}\n${r.stderr}`);
  const failed = await waitForStatus(node, 'the run failed on the expired token', (d) => d.phase === 'failed' && /expired/.test(d.lastError?.message ?? ''), 5 * 60_000);
  assert.ok(expired, 'the token was expired after the preflight read the Node');
  assert.match(failed.lastError!.message, new RegExp(`token "${id}" expired at \\S+ \\(the API server accepted it at \\S+, before the host was prepared\\): put a new one in /etc/joinagent/token`));
  assert.equal((await node.exec(['test', '-e', '/etc/kubernetes/kubelet.conf'], { allowFailure: true })).exitCode, 1, 'kubeadm join never ran');
  assert.equal((await node.exec(['test', '-e', '/etc/kubernetes/bootstrap-kubelet.conf'], { allowFailure: true })).exitCode, 1);

  const fresh = newToken();
  fx.bootstrapTokens.add(fresh);
  await node.writeFile('/etc/joinagent/token', `${fresh}\n`, 0o600);
  await waitForStatus(node, 'joined with the new token, no restart', (d) => d.ready && d.joined, 5 * 60_000);
  await assertJoined(w!);
  const pid = (await node.exec(['systemctl', 'show', 'joinagent', '-p', 'NRestarts', '--value'])).stdout.trim();
  assert.equal(pid, '0', 'the agent was not restarted');
  const journal = (await node.exec(['journalctl', '-u', 'joinagent', '--no-pager'])).stdout;
  assert.match(journal, /a new bootstrap token in \/etc\/joinagent\/token/);
}, () => w?.node);

scenario('identity and certificates: /status and /metrics show machine-id, product_uuid and the kubelet client certificate\'s expiry', async () => {
  const { node } = w!;
  const s = await statusInNode(node);
  const machineId = (await node.exec(['cat', '/etc/machine-id'])).stdout.trim();
  assert.equal(s.node.machineId, machineId, '/status node.machineId is /etc/machine-id');
  const uuid = (await node.exec(['cat', '/sys/class/dmi/id/product_uuid'], { allowFailure: true })).stdout.trim().toLowerCase();
  assert.equal(s.node.productUuid, uuid || undefined, '/status node.productUuid is DMI\'s (absent where the node has none)');
  const cert = s.published.kubeletCert as { clientNotAfter?: string; clientSubject?: string };
  const pem = (await node.exec(['openssl', 'x509', '-noout', '-enddate', '-in', '/var/lib/kubelet/pki/kubelet-client-current.pem'])).stdout;
  assert.equal(Date.parse(cert.clientNotAfter!), Date.parse(pem.replace(/^notAfter=/, '').trim()), '/status published.kubeletCert.clientNotAfter is the certificate\'s');
  assert.match(cert.clientSubject!, new RegExp(`CN=system:node:${hostname}`));
  const metrics = (await node.exec(['curl', '-s', 'http://127.0.0.1:9797/metrics'])).stdout;
  const expiry = /^joinagent_kubelet_client_cert_expiry_seconds (\S+)$/m.exec(metrics)?.[1];
  assert.equal(Number(expiry), Date.parse(cert.clientNotAfter!) / 1000, `metrics: joinagent_kubelet_client_cert_expiry_seconds\n${metrics.slice(0, 400)}`);
  assert.match(metrics, new RegExp(`^joinagent_node_info\\{machine_id="${machineId}",product_uuid="${uuid}"\\} 1$`, 'm'));
}, () => w?.node);

scenario('notready: no CNI config on the node, then no CNI plugins: diagnose and the node-ready step name each', async () => {
  const { node } = w!;
  fx.options.cniReady = false;
  try {
    // the harness plays flannel's install-cni after the join (harness/cni.ts): stop it
    // and undo it (the finally below writes the file back)
    node.stopCni?.();
    await node.exec(['rm', '-f', FLANNEL_CONFLIST_PATH]);
    const d = await node.exec(['joinagent', 'diagnose', '--config', '/etc/joinagent/config.yaml'], { allowFailure: true });
    assert.match(d.stdout, /^FAIL +node-ready +Node "[^"]+" is not Ready: no CNI network config in \/etc\/cni\/net\.d/m, d.stdout);
    await node.writeFile(FLANNEL_CONFLIST_PATH, FLANNEL_CONFLIST);
    const d2 = await node.exec(['joinagent', 'diagnose', '--config', '/etc/joinagent/config.yaml'], { allowFailure: true });
    // kubernetes-cni installed the reference plugins (portmap among them); flannel's own
    // plugin is what its init container would have copied
    assert.match(d2.stdout, /^FAIL +node-ready .*10-flannel\.conflist needs the CNI plugins flannel, which are not in \/opt\/cni\/bin/m, d2.stdout);
  } finally {
    fx.options.cniReady = true;
    await node.writeFile(FLANNEL_CONFLIST_PATH, FLANNEL_CONFLIST);
  }
}, () => w?.node);
