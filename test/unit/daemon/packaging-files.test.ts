import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config/load.js';
import { needs, onPath } from '../../helpers/needs.js';

// The operator-facing files under packaging/ are copy-paste material: each must pass its
// own tool's check, and every joinagent config inside them must pass joinagent's.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'joinagent-pkgfiles-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const USER_DATA = ['packaging/cloud-init/user-data.yaml', 'packaging/cloud-init/user-data-golden-image.yaml'];

// A config as joinagent would read it on the node, with the token file pointed at a temp copy.
async function validates(text: string, name: string): Promise<void> {
  const token = path.join(tmp, `${name}.token`);
  writeFileSync(token, 'abcdef.0123456789abcdef\n', { mode: 0o600 });
  const file = path.join(tmp, `${name}.yaml`);
  writeFileSync(file, text.replaceAll('/etc/joinagent/token', token), { mode: 0o600 });
  const r = await loadConfig(file, { requireToken: true });
  assert.equal(r.config.tokenSource, 'file', name);
}

for (const f of USER_DATA) {
  test(`${f}: valid cloud-config, config and token 0600, joinagent config valid, install --now`, needs(onPath('cloud-init'), 'cloud-init not installed'), async () => {
    const r = spawnSync('cloud-init', ['schema', '--config-file', f], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Valid cloud-config/);
    const doc = parse(readFileSync(f, 'utf8')) as { write_files: { path: string; permissions: string; content: string }[]; runcmd: unknown[] };
    const byPath = new Map(doc.write_files.map((w) => [w.path, w]));
    assert.equal(byPath.get('/etc/joinagent/config.yaml')?.permissions, '0600');
    assert.equal(byPath.get('/etc/joinagent/token')?.permissions, '0600');
    await validates(byPath.get('/etc/joinagent/config.yaml')!.content, path.basename(f));
    const cmds = JSON.stringify(doc.runcmd);
    assert.match(cmds, /install(","|\s+)--now/);
    assert.doesNotMatch(cmds, /systemctl start(?! --no-block)/, 'a blocking start would hold cloud-final until the join');
  });
}

test('cloud-init schema does reject a broken user-data (the check above can fail)', needs(onPath('cloud-init'), 'cloud-init not installed'), () => {
  const bad = path.join(tmp, 'bad.yaml');
  writeFileSync(bad, readFileSync(USER_DATA[0], 'utf8').replace("permissions: '0600'", 'permissions: 0600\n    mode: x'));
  assert.notEqual(spawnSync('cloud-init', ['schema', '--config-file', bad]).status, 0);
});

test('packaging/config.yaml.example is a valid config', async () => {
  await validates(readFileSync('packaging/config.yaml.example', 'utf8'), 'example');
});

test('the Ansible playbook passes ansible-playbook --syntax-check (and a broken one does not)', needs(onPath('ansible-playbook'), 'ansible-playbook (ansible-core) not installed'), () => {
  const env = { ...process.env, ANSIBLE_HOME: tmp, ANSIBLE_LOCAL_TEMP: tmp, ANSIBLE_NOCOLOR: '1' };
  const check = (playbook: string) => spawnSync('ansible-playbook', ['--syntax-check', '-i', 'packaging/ansible/inventory.example.ini', playbook], { encoding: 'utf8', env });
  const r = check('packaging/ansible/joinagent.yml');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const broken = path.join(tmp, 'broken.yml');
  writeFileSync(broken, readFileSync('packaging/ansible/joinagent.yml', 'utf8').replace('ansible.builtin.command: /var/tmp/joinagent install --now', 'ansible.builtin.command: /var/tmp/joinagent install --now\n      ansible.builtin.shell: true'));
  assert.notEqual(check(broken).status, 0);
});
