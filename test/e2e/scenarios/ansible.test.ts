import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { ensureBinary, statusInNode } from '../harness/agent.js';
import { hostOrder, runPlaybook, writeInventory } from '../harness/ansible.js';
import { KUBE_DEB_VERSION, NEWER_DEB_VERSION } from '../harness/aptrepo.js';
import { assertJoined } from '../harness/assertions.js';
import { cleanupAll, onCleanup } from '../harness/cleanup.js';
import { Node } from '../harness/node.js';
import { linkFor } from '../harness/paths.js';
import { log, scenario } from '../harness/scenario.js';
import { sh } from '../harness/sh.js';
import { addDistroSource } from '../harness/distro-repo.js';
import { REPO_KEY_IN_NODE, startWorld, type World } from '../harness/world.js';

// The rollout playbook (packaging/ansible/joinagent.yml) run for real by Debian's
// ansible-playbook against two booted nodes of one cluster: a join of both, one host at a
// time; an upgrade whose first host fails stops before the second is touched; then the
// patch upgrade of both (kubernetesVersion v1.32.11 -> v1.32.12, the playbook re-run).
const SLOT_A = 82;
const SLOT_B = 83;
const TOKEN_FILE = '/etc/joinagent/token';
const OLD = 'v1.32.11';
const NEW = 'v1.32.12';
let w: World | undefined;
let b: Node | undefined;
let dir = '';

before(async () => {
  await ensureBinary(log);
  w = await startWorld({ slot: SLOT_A, variant: 'ansible', log, tokenFile: TOKEN_FILE });
  // the second worker of the same cluster: its link reaches only its own host address,
  // so it gets a route to the first link's services (control plane, repository, registry)
  // through that address, as a worker reaches a control plane on another subnet
  const a = linkFor(SLOT_A);
  b = await Node.create({
    slot: SLOT_B,
    variant: 'ansible',
    log,
    beforeBoot: async (root) => {
      const dropIn = path.join(root, 'etc/systemd/network/10-joinagent-e2e.network.d');
      await fs.mkdir(dropIn, { recursive: true });
      await fs.writeFile(path.join(dropIn, 'cluster.conf'), `[Route]\nDestination=${a.host}/32\nGateway=${linkFor(SLOT_B).host}\n`);
      await fs.mkdir(path.join(root, 'etc/joinagent'), { recursive: true });
      await fs.copyFile(w!.repo.keyFile, path.join(root, REPO_KEY_IN_NODE));
      // the distribution's own repository (iptables, kubelet's dependency), as every world node has
      await addDistroSource(root, w!.repo);
    },
  });
  dir = await fs.mkdtemp('/var/tmp/ja-e2e-ansible-');
  onCleanup('ansible controller dir', () => fs.rm(dir, { recursive: true, force: true }));
});
after(cleanupAll);

// Host-side files the playbook reads: the config (as the operator edits it), the token
// (as ansible-vault would hold it) and the settings of this run.
async function writeVars(version: string, timeout: string): Promise<string[]> {
  const config = path.join(dir, 'config.yaml');
  // the v1.32 repository as pkgs.k8s.io lays it out, where the test bed has one (the
  // upgrade branch's per-minor repositories), else the flat one
  const minorUrl = (w!.repo as { minorUrl?: (minor: string) => string }).minorUrl?.('1.32');
  const text = w!.config.replace(`kubernetesVersion: ${OLD}`, `kubernetesVersion: ${version}`);
  await fs.writeFile(config, minorUrl ? text.replace(`url: "${w!.repo.url}"`, `url: "${minorUrl}"`) : text, { mode: 0o600 });
  const secret = path.join(dir, 'vault.json');
  await fs.writeFile(secret, JSON.stringify({ joinagent_token: w!.token }), { mode: 0o600 });
  const vars = path.join(dir, 'vars.json');
  await fs.writeFile(vars, JSON.stringify({ joinagent_binary: path.resolve('dist/joinagent'), joinagent_config: config, joinagent_join_timeout: timeout }));
  return [vars, secret];
}

const nodes = () => [{ name: 'worker-82', node: w!.node }, { name: 'worker-83', node: b! }];
const tail = (r: { stdout: string; stderr: string }): string => (r.stdout + r.stderr).split('\n').slice(-60).join('\n');

// What a second host that the rollout never reached still has: its config, its running
// agent (same process), its packages and no package transaction since.
async function untouched(node: Node): Promise<Record<string, string>> {
  const q = async (cmd: string[]) => (await node.exec(cmd, { allowFailure: true })).stdout.trim();
  return {
    config: await q(['sha256sum', '/etc/joinagent/config.yaml']),
    agent: await q(['systemctl', 'show', 'joinagent', '-p', 'MainPID,ExecMainStartTimestampMonotonic,NRestarts']),
    binary: await q(['stat', '-c', '%Y %s', '/var/tmp/joinagent']),
    packages: await q(['dpkg-query', '-W', '-f', '${Package} ${Version}\n', 'kubelet', 'kubeadm', 'kubectl']),
    aptHistory: await q(['stat', '-c', '%s %Y', '/var/log/apt/history.log']),
    reloadedAt: (await statusInNode(node)).agent.configReloadedAt ?? '',
  };
}

// Node A's packets to the repository and the registry are refused on its link (a mirror
// that is down for that host only); node B's go through its own link.
async function refuseMirrorsFromA(on: boolean): Promise<void> {
  const l = linkFor(SLOT_A);
  const table = `ja_e2e_ansible_${l.slot}`;
  await sh('nft', ['delete', 'table', 'inet', table], { allowFailure: true });
  if (!on) return;
  await sh('nft', ['-f', '-'], { input: `table inet ${table} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    iifname "${l.hostIf}" ip daddr ${l.host} tcp dport { 8080, 5000 } reject with tcp reset\n  }\n}\n` });
}

scenario('ansible: rollout and upgrade of two nodes', async () => {
  const inventory = await writeInventory(dir, nodes());

  // 1. the join: one host at a time, both joined and converged
  const join = await runPlaybook(dir, inventory, await writeVars(OLD, '8m'));
  assert.equal(join.exitCode, 0, `the join rollout failed:\n${tail(join)}`);
  assert.deepEqual(hostOrder(join.stdout), ['worker-82', 'worker-83'], `serial 1: every task of worker-82, then worker-83:\n${join.stdout}`);
  assert.match(join.stdout, /worker-82\s+: ok=\d+\s+changed=[1-9]/);
  assert.match(join.stdout, /worker-83\s+: ok=\d+\s+changed=[1-9]/);
  for (const node of [w!.node, b!]) {
    await assertJoined({ node, cp: w!.cp });
    assert.equal((await node.exec(['systemctl', 'is-active', 'joinagent'], { allowFailure: true })).stdout.trim(), 'active');
  }
  // the same playbook again changes nothing
  const again = await runPlaybook(dir, inventory, await writeVars(OLD, '8m'));
  assert.equal(again.exitCode, 0, tail(again));
  assert.match(again.stdout, /worker-82\s+: ok=\d+\s+changed=0 /);
  assert.match(again.stdout, /worker-83\s+: ok=\d+\s+changed=0 /);

  // 2. the control plane moves to v1.32.12 first (kubeadm's order: a kubelet may not be
  // newer than the API server), then the workers follow; the first one cannot converge
  // (its mirrors refuse it), and the rollout stops there
  (w!.cp as { setVersion?: (v: string) => void }).setVersion?.(NEW);
  const bBefore = await untouched(b!);
  await refuseMirrorsFromA(true);
  try {
    const failed = await runPlaybook(dir, inventory, await writeVars(NEW, '2m'));
    assert.notEqual(failed.exitCode, 0, `the rollout must fail on worker-82:\n${tail(failed)}`);
    assert.match(failed.stdout, /fatal: \[worker-82\]: FAILED![^\n]*/, 'worker-82 failed');
    assert.match(failed.stdout, /TASK \[Wait until the node has joined and converged\][^\n]*\n(?:[^\n]*\n)*?fatal: \[worker-82\]/, 'at the wait for the agent to converge');
    // the operator sees why, in the failed task's output: the agent's status table
    assert.match(failed.stdout, /fatal: \[worker-82\]: FAILED! => [^\n]*phase {4}failed {2}\(/, 'the failure shows the agent\'s reason');
    assert.deepEqual(hostOrder(failed.stdout), ['worker-82'], `worker-83 was not reached:\n${failed.stdout}`);
    assert.doesNotMatch(failed.stdout, /worker-83\s+: ok=[1-9]/, 'no task ran on worker-83');
    assert.deepEqual(await untouched(b!), bBefore, 'worker-83 untouched: same config, same agent process, same packages, no apt run');
    const a = await statusInNode(w!.node);
    assert.equal(a.ready, false, `worker-82's agent says it did not converge: ${a.reason}`);
  } finally {
    await refuseMirrorsFromA(false);
  }

  // 3. the mirrors are back: the re-run upgrades worker-82, then worker-83
  await upgradeHalf(inventory);
}, () => w?.node);

// The upgrade itself is the in-place upgrade's work (issue 18, branch `upgrade`): on a
// branch without it this half fails, by name, with what it saw.
async function upgradeHalf(inventory: string): Promise<void> {
  const needs = (what: string): Error => new Error(`needs the upgrade branch (in-place upgrade of issue 18): ${what}`);
  const r = await runPlaybook(dir, inventory, await writeVars(NEW, '6m'));
  if (r.exitCode !== 0) throw needs(`the upgrade rollout failed:\n${tail(r)}`);
  assert.deepEqual(hostOrder(r.stdout), ['worker-82', 'worker-83'], 'serial 1');
  for (const { name, node } of nodes()) {
    const me = (await w!.cp!.nodes()).find((n) => n.name === name);
    if (me?.kubeletVersion !== NEW) throw needs(`Node ${name} reports kubeletVersion ${me?.kubeletVersion ?? '(none)'}, wanted ${NEW}`);
    assert.ok(me.ready, `Node ${name} Ready`);
    const pkgs = (await node.exec(['dpkg-query', '-W', '-f', '${Version}', 'kubelet'])).stdout;
    assert.equal(pkgs, NEW_DEB, `${name}: kubelet ${NEW_DEB} (was ${KUBE_DEB_VERSION})`);
  }
}
const NEW_DEB = NEWER_DEB_VERSION;
