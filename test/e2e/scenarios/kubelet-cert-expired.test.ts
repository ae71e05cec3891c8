import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary, waitForStatus } from '../harness/agent.js';
import { assertJoined } from '../harness/assertions.js';
import { cleanupAll } from '../harness/cleanup.js';
import { newToken } from '../harness/config.js';
import { log, scenario } from '../harness/scenario.js';
import { waitFor } from '../harness/sh.js';
import { startWorld, type World } from '../harness/world.js';
import type { ControlPlane as Fixture } from '../../fixtures/controlplane.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prom-text.js';

// A node whose kubelet client certificate expired while it was off (issue 16,
// kubernetes/kubernetes#78758): the kubelet, restarted, finds it expired and has no
// bootstrap kubeconfig (kubeadm removed it after the join), so it exits; the API server
// answers 401 to the certificate and the Node turns NotReady. `joinagent run` without a new token refuses, naming the
// expiry and the token file; with a new token it bootstraps the kubelet again: a new
// certificate, the Node Ready with its labels, /status and /metrics showing the new expiry.
const SLOT = 35;
const TOKEN_FILE = '/etc/joinagent/token';
const CONFIG = '/etc/joinagent/config.yaml';
const DAY = 86_400_000;
let w: World | undefined;
let fx: Fixture;

before(async () => {
  const binary = await ensureBinary(log);
  w = await startWorld({ slot: SLOT, log, tokenFile: TOKEN_FILE });
  fx = w.cp!.fixture as unknown as Fixture;
  await w.node.copyIn(binary, '/root/joinagent', 0o755);
  await w.node.writeFile(TOKEN_FILE, `${w.token}\n`, 0o600);
  await w.node.writeFile('/root/joinagent.yaml', w.config, 0o600);
});
after(cleanupAll);

scenario('kubelet certificate: expired while the node was off; refused without a token, bootstrapped again with one', async () => {
  const { node } = w!;
  const inst = await node.exec(['/root/joinagent', 'install', '--now', '--config', '/root/joinagent.yaml'], { allowFailure: true, timeoutMs: 60_000 });
  assert.equal(inst.exitCode, 0, `install --now:\n${inst.stdout}\n${inst.stderr}`);
  await waitForStatus(node, 'joined', (d) => d.ready && d.joined, 10 * 60_000);
  const name = (await node.exec(['hostname'])).stdout.trim();
  // an administrator's label on the Node, which a re-join through `kubectl delete node` would lose
  fx.nodes.get(name)!.metadata.labels!['topology.kubernetes.io/zone'] = 'rack-3';
  // the node lifecycle controller's grace period (kube-controller-manager's default, 40 s)
  fx.options.nodeMonitorGracePeriodMs = 40_000;
  await node.exec(['systemctl', 'stop', 'joinagent']);

  // the certificate the kubelet last rotated to, expired yesterday (signed by the cluster CA)
  const notAfter = new Date(Math.floor((Date.now() - DAY) / 1000) * 1000);
  const old = fx.issueClientCert(name, { notBefore: new Date(notAfter.getTime() - 30 * DAY), notAfter });
  const dated = '/var/lib/kubelet/pki/kubelet-client-2026-11-01-00-00-00.pem';
  await node.writeFile(dated, old.certPem + old.keyPem, 0o600);
  await node.exec(['ln', '-sfn', dated, '/var/lib/kubelet/pki/kubelet-client-current.pem']);
  await node.exec(['systemctl', 'restart', 'kubelet']);
  await waitFor('the kubelet to refuse its expired certificate', async () => {
    const j = (await node.exec(['journalctl', '-u', 'kubelet', '--no-pager', '-n', '30'])).stdout;
    return /part of the existing bootstrap client certificate in \/etc\/kubernetes\/kubelet\.conf is expired/.test(j) && /unable to load bootstrap kubeconfig: stat \/etc\/kubernetes\/bootstrap-kubelet\.conf: no such file or directory/.test(j) ? true : undefined;
  }, 60_000, 1000);
  assert.notEqual((await node.exec(['curl', '-s', '--max-time', '5', 'http://127.0.0.1:10248/healthz'], { allowFailure: true })).stdout.trim(), 'ok', 'the kubelet is down');
  const server = (await node.sh("sed -n 's/^ *server: //p' /etc/kubernetes/kubelet.conf")).stdout.trim();
  const code = await node.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', '/etc/kubernetes/pki/ca.crt', '--cert', dated, '--key', dated, `${server}/api/v1/nodes/${name}`], { allowFailure: true });
  assert.equal(code.stdout.trim(), '401', 'the API server refuses the expired certificate: Unauthorized');
  await waitFor('the Node to turn NotReady (no heartbeat for the grace period)', async () => ((await w!.cp!.nodes()).find((n) => n.name === name)?.ready === false ? true : undefined), 3 * 60_000, 2000);

  // no new token: refused, naming the expiry and where a token goes; nothing removed
  const refused = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG, '--log-format', 'pretty'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  const out = `${refused.stdout}\n${refused.stderr}`;
  assert.equal(refused.exitCode, 1, `run --once without a token refuses:\n${out}`);
  assert.match(out, new RegExp(`the kubelet's client certificate expired at ${notAfter.toISOString().slice(0, 19)}`));
  assert.match(out, /put a new bootstrap token in \/etc\/joinagent\/token/);
  assert.equal((await node.exec(['test', '-s', '/etc/kubernetes/kubelet.conf'], { allowFailure: true })).exitCode, 0, 'kubelet.conf left in place');

  // a new token: the daemon bootstraps the kubelet again
  const fresh = newToken();
  fx.bootstrapTokens.add(fresh);
  await node.writeFile(TOKEN_FILE, `${fresh}\n`, 0o600);
  await node.exec(['systemctl', 'start', 'joinagent']);
  const s = await waitForStatus(node, 'joined again with a new client certificate', (d) => d.ready && d.joined && Date.parse((d.published.kubeletCert as { clientNotAfter?: string } | undefined)?.clientNotAfter ?? '') > Date.now(), 10 * 60_000);
  const current = (await node.exec(['readlink', '-f', '/var/lib/kubelet/pki/kubelet-client-current.pem'])).stdout.trim();
  assert.notEqual(current, dated, 'a new certificate file');
  assert.match(current, /^\/var\/lib\/kubelet\/pki\/kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/);
  const end = (await node.exec(['openssl', 'x509', '-noout', '-enddate', '-in', current])).stdout.trim().replace(/^notAfter=/, '');
  const newNotAfter = Date.parse(end);
  assert.ok(newNotAfter > Date.now(), `the new certificate is valid (notAfter ${end})`);
  const published = s.published.kubeletCert as { clientNotAfter: string };
  assert.equal(Date.parse(published.clientNotAfter), newNotAfter, '/status published.kubeletCert.clientNotAfter is the new certificate\'s');
  // the node's exec trims its output: the exposition's last newline goes with it
  const metrics = parsePrometheusText(`${(await node.exec(['curl', '-sS', '--max-time', '5', 'http://127.0.0.1:9797/metrics'])).stdout.trimEnd()}\n`);
  assert.equal(sampleValue(metrics, 'joinagent_kubelet_client_cert_expiry_seconds'), newNotAfter / 1000);
  assert.ok([...fx.csrs.values()].some((c) => c.spec.username === `system:bootstrap:${fresh.split('.')[0]}`), 'the new certificate came from a CSR made with the new token');
  assert.equal((await node.exec(['test', '-e', '/etc/kubernetes/bootstrap-kubelet.conf'], { allowFailure: true })).exitCode, 1, 'the bootstrap kubeconfig is removed again');
  await assertJoined(w!);
  assert.equal(fx.nodes.get(name)!.metadata.labels!['topology.kubernetes.io/zone'], 'rack-3', 'the Node kept its labels');
}, () => w?.node);
