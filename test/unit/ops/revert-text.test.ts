import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK_BEGIN, BLOCK_END, COMMENT_PREFIX } from '../../../src/host/markers.js';
import { revertText, undoMarkers } from '../../../src/ops/reset/revert-text.js';

const hostsOrig = '127.0.0.1 localhost\n127.0.1.1 k8s-w1\n::1 localhost ip6-localhost\n';
const hostsOurs = `127.0.0.1 localhost\n::1 localhost ip6-localhost\n${BLOCK_BEGIN}\n192.168.10.100 k8s-ctr\n192.168.10.101 k8s-w1\n${BLOCK_END}\n`;
const fstabOrig = 'UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n';
const fstabOurs = `UUID=1 / ext4 defaults 0 1\n${COMMENT_PREFIX}/swap.img none swap sw 0 0\n`;

test('revertText: table of joinagent edits and later foreign edits', () => {
  const cases: { name: string; file: string; orig: string; ours: string | undefined; current: string; want: string; method: string }[] = [
    { name: 'unchanged since our write -> original', file: '/etc/hosts', orig: hostsOrig, ours: hostsOurs, current: hostsOurs, want: hostsOrig, method: 'exact' },
    { name: 'foreign line at the top -> 3-way keeps it', file: '/etc/hosts', orig: hostsOrig, ours: hostsOurs, current: '10.0.0.5 backup\n' + hostsOurs, want: '10.0.0.5 backup\n' + hostsOrig, method: 'three-way' },
    { name: 'foreign line right after our block -> kept', file: '/etc/hosts', orig: hostsOrig, ours: hostsOurs, current: hostsOurs + '10.0.0.9 nfs\n', want: hostsOrig + '10.0.0.9 nfs\n', method: 'three-way' },
    { name: 'foreign edit inside our block -> markers', file: '/etc/hosts', orig: hostsOrig, ours: hostsOurs, current: hostsOurs.replace('192.168.10.100 k8s-ctr\n', '192.168.10.100 k8s-ctr\n10.1.1.1 x\n'), want: hostsOrig, method: 'markers' },
    { name: 'no record of our write -> markers', file: '/etc/hosts', orig: hostsOrig, ours: undefined, current: hostsOurs + '10.0.0.9 nfs\n', want: hostsOrig + '10.0.0.9 nfs\n', method: 'markers' },
    { name: 'fstab: swap line uncommented, foreign mount kept', file: '/etc/fstab', orig: fstabOrig, ours: fstabOurs, current: fstabOurs + 'nfs:/x /mnt nfs defaults 0 0\n', want: fstabOrig + 'nfs:/x /mnt nfs defaults 0 0\n', method: 'three-way' },
    { name: 'fstab without a manifest copy -> markers', file: '/etc/fstab', orig: fstabOrig, ours: undefined, current: fstabOurs, want: fstabOrig, method: 'markers' },
  ];
  for (const c of cases) {
    const r = revertText(c.file, c.orig, c.ours, c.current);
    assert.ok(r, c.name);
    assert.equal(r.content, c.want, c.name);
    assert.equal(r.method, c.method, c.name);
  }
});

test('revertText: nothing of joinagent left -> null (the caller keeps the file)', () => {
  assert.equal(revertText('/etc/containerd/config.toml', 'a = 1\n', 'a = 2\n', 'a = 3\n'), null);
});

test('undoMarkers leaves an unterminated block alone', () => {
  const t = `x\n${BLOCK_BEGIN}\ny\n`;
  assert.equal(undoMarkers(t), t);
});

test('an original without a final newline does not swallow the newline of a line appended later', () => {
  const original = '127.0.0.1\tlocalhost\n::1\tlocalhost';
  const written = `${original}\n# BEGIN joinagent managed block\n10.0.0.1\tk8s-ctr\n# END joinagent managed block\n`;
  const current = `${written}203.0.113.7\tbackup\n`;
  const r = revertText('/etc/hosts', original, written, current);
  assert.equal(r?.content, `${original}\n203.0.113.7\tbackup\n`);
  assert.equal(revertText('/etc/hosts', original, written, written)?.content, original, 'untouched since: back byte for byte');
});
