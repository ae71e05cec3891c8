import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Node } from './node.js';
import { repoRoot } from './paths.js';
import { sh, type ShResult } from './sh.js';

// Ansible from this host (Debian's ansible-core) driving booted nodes, as a fleet owner's
// controller drives workers over ssh. The connection is the bench's nsenter plugin
// (bench/ansible/connection_plugins/nsenter.py): Ansible's `local` connection wrapped in
// nsenter into the node, files put through its root directory; the rest of Ansible
// (modules, become, serial, failure handling) is Ansible's own. The nodes need python3:
// the 'ansible' root filesystem variant has it.
export const PLAYBOOK = path.join(repoRoot, 'packaging/ansible/joinagent.yml');
const PLUGINS = path.join(repoRoot, 'bench/ansible/connection_plugins');

// An inventory of the nodes in this order, in the group the playbook targets.
export async function writeInventory(dir: string, nodes: { name: string; node: Node }[]): Promise<string> {
  const file = path.join(dir, 'inventory.ini');
  const lines = nodes.map(({ name, node }) => `${name} ansible_connection=nsenter ansible_nsenter_pid=${node.pid1} ansible_nsenter_root=${node.root} ansible_python_interpreter=/usr/bin/python3`);
  // root already: `become` goes through su (no sudo on a minimal Debian)
  await fs.writeFile(file, ['[workers]', ...lines, '', '[workers:vars]', 'ansible_become_method=su', ''].join('\n'));
  return file;
}

// ansible-playbook with extra vars from files (-e @file: the token never on argv).
export async function runPlaybook(dir: string, inventory: string, varFiles: string[], timeoutMs = 20 * 60_000): Promise<ShResult> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    ANSIBLE_HOME: path.join(dir, '.ansible'),
    ANSIBLE_LOCAL_TEMP: path.join(dir, '.ansible/tmp'),
    ANSIBLE_CONNECTION_PLUGINS: PLUGINS,
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    LC_ALL: 'C.UTF-8',
  };
  return sh('ansible-playbook', ['-i', inventory, ...varFiles.flatMap((f) => ['-e', `@${f}`]), PLAYBOOK], { allowFailure: true, timeoutMs, env, cwd: path.dirname(PLAYBOOK) });
}

// The hosts in the order their task results were printed ("ok: [h]", "changed: [h]",
// "fatal: [h]"...), each once: with serial 1 a host appears only after the previous
// host's last task.
export function hostOrder(out: string): string[] {
  const seen: string[] = [];
  for (const m of out.matchAll(/^(?:ok|changed|fatal|failed|skipping): \[([^\]]+)\]/gm)) {
    if (seen.at(-1) !== m[1]) seen.push(m[1]!);
  }
  return seen;
}
