import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Node } from '../test/e2e/harness/node.js';
import { sh } from '../test/e2e/harness/sh.js';
import { REPO_KEY_IN_NODE, type World } from '../test/e2e/harness/world.js';

// Ansible as the no-op baseline. The target is set against Ansible at its best: the
// reviewed reference playbook (ansible/node-prep.yml) run inside the node with
// --connection=local. The same playbook through a controller on the host (our nsenter
// connection plugin: what ssh to the node does, minus ssh) and the bench's own
// full-scope playbook (ansible/prepare.yml: packages and images too) are further rows.
const HERE = import.meta.dirname;
export const REFERENCE = path.join(HERE, 'ansible/node-prep.yml');
const IN_NODE = '/root/bench-ansible/node-prep.yml';
const ENV = { ANSIBLE_NOCOLOR: '1', ANSIBLE_PIPELINING: 'True', ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_CALLBACKS_ENABLED: 'ansible.posix.profile_tasks', LC_ALL: 'C.UTF-8' };

export interface AnsibleRun {
  s: number;
  changed: number;
  /** profile_tasks' per-task lines and the recap */
  out: string;
}

/** Tasks in the reference playbook (handlers not counted). */
export function referenceTasks(): number {
  const plays = parse(readFileSync(REFERENCE, 'utf8')) as { tasks?: unknown[] }[];
  return plays.reduce((n, p) => n + (p.tasks?.length ?? 0), 0);
}

function result(s: number, r: { exitCode: number; stdout: string; stderr: string }): AnsibleRun {
  if (r.exitCode !== 0) throw new Error(`ansible-playbook exited ${r.exitCode}:\n${(r.stdout + r.stderr).split('\n').slice(-30).join('\n')}`);
  return { s, changed: Number(/changed=(\d+)/.exec(r.stdout)?.[1] ?? NaN), out: r.stdout };
}

// The reference playbook inside the node (the node's rootfs variant 'ansible' has Debian's
// ansible with the collections the playbook uses, and python3-apt).
export async function referenceLocal(node: Node): Promise<() => Promise<AnsibleRun>> {
  await node.copyIn(REFERENCE, IN_NODE);
  return async () => {
    const t0 = process.hrtime.bigint();
    const r = await node.exec(['ansible-playbook', '--connection=local', '-i', 'localhost,', IN_NODE], { allowFailure: true, timeoutMs: 15 * 60_000, env: ENV });
    return result(Number(process.hrtime.bigint() - t0) / 1e9, r);
  };
}

// A controller on the host driving the node: the reference playbook, or our own.
async function controller(node: Node, playbook: string, extra: string[] = []): Promise<() => Promise<AnsibleRun>> {
  const inventory = path.join(node.dir, 'inventory.ini');
  await fs.writeFile(inventory, `node ansible_connection=nsenter ansible_nsenter_pid=${node.pid1} ansible_nsenter_root=${node.root} ansible_python_interpreter=/usr/bin/python3\n`);
  return async () => {
    const t0 = process.hrtime.bigint();
    const r = await sh('ansible-playbook', ['-i', inventory, ...extra, playbook], {
      allowFailure: true,
      timeoutMs: 15 * 60_000,
      env: { ...ENV, ANSIBLE_CONNECTION_PLUGINS: path.join(HERE, 'ansible/connection_plugins'), PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
    });
    return result(Number(process.hrtime.bigint() - t0) / 1e9, r);
  };
}

export function referenceController(node: Node): Promise<() => Promise<AnsibleRun>> {
  return controller(node, REFERENCE);
}

// The bench's own playbook: the same end state as `joinagent prepare` (packages and
// images included), through the controller.
export function ownPlaybook(w: World): Promise<() => Promise<AnsibleRun>> {
  const vars = JSON.stringify({ repo_url: w.repo.url, repo_key: REPO_KEY_IN_NODE, registry: w.registry.address, ctr_ip: w.node.link.host });
  return controller(w.node, path.join(HERE, 'ansible/prepare.yml'), ['-e', vars]);
}

// profile_tasks prints one "task name --- 1.23s" line per task after the recap.
export function profileLines(out: string): string {
  const i = out.indexOf('PLAY RECAP');
  return i < 0 ? out : out.slice(i);
}
