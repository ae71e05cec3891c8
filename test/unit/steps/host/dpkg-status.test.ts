import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { hostFiles } from '../../../../src/host/files.js';
import { dpkgQueryFromStatus, renderDpkgQuery } from '../../../../src/steps/host/packages/dpkg-status.js';
import { needs, onPath } from '../../../helpers/needs.js';

const FORMAT = '-f=${Package}\t${Version}\t${db:Status-Abbrev}\n';
const sorted = (s: string): string[] => s.split('\n').filter(Boolean).sort();

// The file read must say what dpkg-query says, or the packages step would be wrong on a
// no-op run: compared with the real dpkg-query on this (Debian) machine's own database.
test('the status file renders exactly what dpkg-query -W prints, on this machine\'s dpkg database', needs(onPath('dpkg-query'), 'dpkg-query (dpkg) is needed'), () => {
  const names = ['dpkg', 'bash', 'coreutils', 'libc6', 'no-such-package-here', 'containerd', 'runc'];
  let real: string;
  try {
    real = execFileSync('dpkg-query', ['-W', FORMAT, ...names], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    real = String((e as { stdout?: string }).stdout ?? ''); // exits 1 for the unknown name
  }
  const ours = renderDpkgQuery(readFileSync('/var/lib/dpkg/status', 'utf8'), names);
  assert.ok(real.length > 0);
  assert.deepEqual(sorted(ours ?? ''), sorted(real));
});

test('held, removed with config, half-installed and purge-wanted packages keep dpkg-query\'s letters', () => {
  const status = [
    'Package: kubelet\nStatus: hold ok installed\nArchitecture: amd64\nVersion: 1.32.11-1.1\nDescription: x\n more',
    'Package: runc\nStatus: deinstall ok config-files\nVersion: 1.1.5\n',
    'Package: kubeadm\nStatus: install reinstreq half-installed\nVersion: 1.32.11-1.1',
    'Package: other\nStatus: install ok installed\nVersion: 1',
  ].join('\n\n');
  assert.deepEqual(sorted(renderDpkgQuery(status, ['kubelet', 'runc', 'kubeadm', 'absent'])!), ['kubeadm\t1.32.11-1.1\tiHR', 'kubelet\t1.32.11-1.1\thi ', 'runc\t1.1.5\trc ']);
  assert.equal(renderDpkgQuery('Package: x\nStatus: install ok weird-state\nVersion: 1', ['x']), undefined, 'an unknown form goes to dpkg-query');
});

test('while dpkg\'s journal has entries the file is not the truth: dpkg-query is asked', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ja-dpkg-'));
  try {
    mkdirSync(path.join(root, 'var/lib/dpkg/updates'), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/dpkg/status'), 'Package: kubelet\nStatus: install ok installed\nVersion: 1\n');
    assert.equal(await dpkgQueryFromStatus(hostFiles(root, true), ['kubelet']), 'kubelet\t1\tii \n');
    writeFileSync(path.join(root, 'var/lib/dpkg/updates/0000'), 'Package: kubelet\nStatus: install ok unpacked\n');
    assert.equal(await dpkgQueryFromStatus(hostFiles(root, true), ['kubelet']), undefined);
    rmSync(path.join(root, 'var/lib/dpkg/updates'), { recursive: true });
    assert.equal(await dpkgQueryFromStatus(hostFiles(root, true), ['kubelet']), undefined, 'no journal directory: not a dpkg database we trust');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
