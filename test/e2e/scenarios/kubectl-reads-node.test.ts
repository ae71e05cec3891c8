import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureBinary } from '../harness/agent.js';
import { cleanupAll } from '../harness/cleanup.js';
import { sidKubectl } from '../harness/kubectl.js';
import { log, scenario } from '../harness/scenario.js';
import { startWorld, type World } from '../harness/world.js';

// After a real join, a client we did not write reads the result: Debian's kubectl
// (client-go) inside the node, with the node's own /etc/kubernetes/kubelet.conf, against
// the simulated API server. It must get through discovery, accept the Node object and the
// server-side Table, and meet the v1.32 node authorizer: its own Node yes (Ready, the
// podCIDR node-ipam gave it, its InternalIP), the Node list no
// (AuthorizeNodeWithSelectors is on by default since v1.32).
const SLOT = 64;
const CONFIG = '/root/joinagent.yaml';
const KUBECTL = '/root/kubectl-sid';
let w: World | undefined;
let binary = '';
let kubectl = '';

before(async () => {
  binary = await ensureBinary(log);
  kubectl = await sidKubectl();
  w = await startWorld({ slot: SLOT, log });
});
after(cleanupAll);

scenario('kubectl (Debian sid, client-go) lists the joined Node through the API server with the node\'s kubelet.conf', async () => {
  const { node } = w!;
  await node.copyIn(binary, '/root/joinagent', 0o755);
  await node.writeFile(CONFIG, w!.config, 0o600);
  const r = await node.exec(['/root/joinagent', 'run', '--once', '--config', CONFIG], { allowFailure: true, timeoutMs: 8 * 60_000 });
  assert.equal(r.exitCode, 0, `run --once exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  await node.copyIn(kubectl, KUBECTL, 0o755);
  const name = (await node.exec(['hostname'])).stdout.trim();
  const kc = (args: string[]) => node.exec([KUBECTL, '--kubeconfig', '/etc/kubernetes/kubelet.conf', '--cache-dir', '/tmp/kubectl-cache', '--request-timeout', '20s', ...args], { allowFailure: true, timeoutMs: 60_000 });

  const json = await kc(['get', 'node', name, '-o', 'json']);
  assert.equal(json.exitCode, 0, json.stderr);
  const n = JSON.parse(json.stdout) as { kind: string; apiVersion: string; metadata: { name: string }; spec: { podCIDR?: string }; status: { conditions: { type: string; status: string }[]; addresses: { type: string; address: string }[] } };
  assert.equal(n.kind, 'Node');
  assert.equal(n.apiVersion, 'v1');
  assert.equal(n.metadata.name, name);
  assert.equal(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True', 'Ready');
  assert.match(n.spec.podCIDR ?? '', /^10\.244\.\d+\.0\/24$/, 'the podCIDR node-ipam assigned');
  assert.deepEqual(n.status.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address), [node.link.node], 'its InternalIP');

  const table = await kc(['get', 'node', name, '-o', 'wide']);
  assert.equal(table.exitCode, 0, table.stderr);
  const [head, row] = table.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(head.slice(0, 6), ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP']);
  assert.deepEqual([row[0], row[1], row[2]], [name, 'Ready', '<none>']);
  assert.ok(row.includes(node.link.node), `INTERNAL-IP column: ${table.stdout}`);

  const list = await kc(['get', 'nodes', '-o', 'json']);
  assert.equal(list.exitCode, 1, 'a kubelet\'s credentials may not list Nodes in v1.32');
  assert.match(list.stderr, new RegExp(`Error from server \\(Forbidden\\): nodes is forbidden: User "system:node:${name}" cannot list resource "nodes" in API group "" at the cluster scope: node '${name}' cannot read all nodes, only its own Node object`));
  // the administrator's view agrees
  const me = (await w!.cp!.nodes()).find((x) => x.name === name);
  assert.equal(me?.podCIDR, n.spec.podCIDR);
}, () => w?.node);
