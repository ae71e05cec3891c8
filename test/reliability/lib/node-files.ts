import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import type { Node } from '../../e2e/harness/node.js';

// Foreign content an operator (or the image) put there before joinagent: it must survive
// every crash and every resumed run untouched.
export const FOREIGN = {
  fstab: '/dev/vdb1 /srv/data ext4 defaults,noatime 0 2',
  hosts: '10.99.0.7 backup.example.internal backup',
  containerd: 'version = 2\noom_score = -999\n\n[debug]\n  level = "warn"\n',
};

export async function plantForeignContent(node: Node): Promise<void> {
  await node.sh(`echo '${FOREIGN.fstab}' >> /etc/fstab && echo '${FOREIGN.hosts}' >> /etc/hosts`);
  await node.writeFile('/etc/containerd/config.toml', FOREIGN.containerd);
}

const read = (node: Node, p: string): string | undefined => (existsSync(node.hostPath(p)) ? readFileSync(node.hostPath(p), 'utf8') : undefined);

// Every file joinagent (or what it runs) writes, parsed as its consumer would: a crash at
// any point must leave each one either the old or the new version, never a torn one.
export function assertFilesWhole(node: Node, when: string): void {
  const toml = read(node, '/etc/containerd/config.toml');
  assert.ok(toml !== undefined, `${when}: /etc/containerd/config.toml exists (planted before the run)`);
  const doc = parseToml(toml) as { oom_score?: number; debug?: { level?: string } };
  assert.equal(doc.oom_score, -999, `${when}: config.toml keeps the foreign oom_score:\n${toml}`);
  assert.equal(doc.debug?.level, 'warn', `${when}: config.toml keeps the foreign [debug] level`);
  for (const y of ['/etc/crictl.yaml', '/etc/kubernetes/kubelet.conf', '/etc/kubernetes/bootstrap-kubelet.conf', '/var/lib/kubelet/config.yaml']) {
    const t = read(node, y);
    if (t !== undefined) assert.doesNotThrow(() => parseYaml(t), `${when}: ${y} parses as YAML`);
  }
  for (const c of ['/etc/sysctl.d/k8s.conf', '/etc/modules-load.d/k8s.conf']) {
    const t = read(node, c);
    if (t === undefined) continue;
    for (const l of t.split('\n').filter((x) => x.trim() && !x.startsWith('#'))) assert.match(l, c.includes('sysctl') ? /^[\w.-]+\s*=\s*\S+$/ : /^[\w-]+$/, `${when}: ${c} line "${l}"`);
    assert.ok(t.endsWith('\n'), `${when}: ${c} ends with a newline (not cut short)`);
  }
  const listDir = node.hostPath('/etc/apt/sources.list.d');
  for (const f of existsSync(listDir) ? readdirSync(listDir).filter((x) => x.endsWith('.list') || x.endsWith('.sources')) : []) {
    const t = readFileSync(path.join(listDir, f), 'utf8');
    if (f.endsWith('.list')) for (const l of t.split('\n').filter((x) => x.trim() && !x.startsWith('#'))) assert.match(l, /^deb(-src)?\s+(\[[^\]]*\]\s+)?\S+\s+\S+/, `${when}: ${f} line "${l}"`);
    else assert.match(t, /^Types:/m, `${when}: ${f} is a deb822 stanza`);
  }
  const fstab = read(node, '/etc/fstab') ?? '';
  assert.ok(fstab.split('\n').includes(FOREIGN.fstab), `${when}: the foreign fstab line is intact:\n${fstab}`);
  const hosts = read(node, '/etc/hosts') ?? '';
  assert.ok(hosts.split('\n').includes(FOREIGN.hosts), `${when}: the foreign hosts line is intact:\n${hosts}`);
  for (const l of hosts.split('\n').filter((x) => x.trim() && !x.startsWith('#'))) assert.match(l, /^[\d.:a-f]+\s+\S+/, `${when}: /etc/hosts line "${l}"`);
  for (const j of ['/var/lib/joinagent/state.json', '/var/lib/joinagent/backup/manifest.json']) {
    const t = read(node, j);
    if (t !== undefined) assert.doesNotThrow(() => JSON.parse(t), `${when}: ${j} parses as JSON (${t.length} bytes)`);
  }
}

// After a converged run: the backups of the files joinagent edited are there, and no
// temporary file of an interrupted atomic write is left under /etc.
export function assertBackupsAndNoTempFiles(node: Node): void {
  const manifest = read(node, '/var/lib/joinagent/backup/manifest.json');
  assert.ok(manifest, 'backup manifest present');
  for (const f of ['/etc/hosts', '/etc/containerd/config.toml']) assert.ok(manifest.includes(f), `backup manifest records ${f}`);
  const leftovers: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
      else if (/\.joinagent-\d+-\d+$/.test(e.name) && statSync(p).isFile()) leftovers.push(p.slice(node.root.length));
    }
  };
  walk(node.hostPath('/etc'));
  assert.deepEqual(leftovers, [], 'no temporary file of an interrupted write left under /etc');
}
