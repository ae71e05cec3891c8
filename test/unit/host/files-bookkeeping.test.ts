import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { emptyState, loadState, saveState } from '../../../src/engine/state.js';
import { hostFiles, readManifest } from '../../../src/host/files.js';
import { paths } from '../../../src/host/paths.js';
import { executeReset, planReset } from '../../../src/ops/reset/reset.js';
import { FakeProc, tempRoot } from '../../helpers/fakes.js';
import { buildPreparedHost, ORIGINAL } from '../../helpers/prepared-host.js';
import { asRoot, needs } from '../../helpers/needs.js';

// Issue 17 item 13: joinagent's bookkeeping (the backup manifest, state.json) is never
// silently replaced: a corrupt file is kept aside with a warning, the manifest is rebuilt
// from the backup copies it describes, and a crash (here: a full /etc) never leaves the
// manifest describing a write that did not happen.
let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

const tools = (): FakeProc =>
  new FakeProc().on('kubeadm reset --force', {}).on('systemctl stop kubelet', {}).on('systemctl is-active firewalld', { stdout: 'active\n' }).on('getenforce', { stdout: 'Enforcing\n' }).on(/^systemctl (unmask|disable)/, {});

describe('bookkeeping: a corrupt backup manifest', () => {
  it('is kept aside with a warning, and reset --all still restores the originals', async () => {
    const t = tempRoot();
    cleanup = t.cleanup;
    await buildPreparedHost(t.root, t.files);
    const manifestFile = path.join(t.root, paths.backupManifest);
    const garbage = '{"/etc/fstab": {"original": "/var/lib/jo'; // truncated: a crash mid-write of an older agent, a bad disk
    writeFileSync(manifestFile, garbage);
    const warnings: string[] = [];
    const files = hostFiles(t.root, false, { warn: (m) => warnings.push(m) });
    // the next edit of any file must not replace the manifest with one that knows only that file
    await files.write('/etc/motd', 'hello\n');
    const aside = readdirSync(path.dirname(manifestFile)).filter((f) => f.startsWith('manifest.json.corrupt-'));
    assert.equal(aside.length, 1, 'the corrupt manifest is kept aside');
    assert.equal(readFileSync(path.join(path.dirname(manifestFile), aside[0]), 'utf8'), garbage);
    assert.match(warnings.join('\n'), /backup manifest .* is not valid JSON: kept as .*manifest\.json\.corrupt-.*rebuilt from the backup copies/);
    const m = await readManifest(files);
    assert.ok(m['/etc/fstab']?.original, 'the original of fstab is known again');
    await executeReset(await planReset({ files, proc: tools() }, { all: true, purgePackages: false }), () => undefined);
    for (const p of ['/etc/fstab', '/etc/hosts', '/etc/selinux/config']) assert.equal(readFileSync(path.join(t.root, p), 'utf8'), ORIGINAL[p as keyof typeof ORIGINAL], p);
  });

  it('a reset planned on a corrupt manifest says so instead of finding nothing to revert', async () => {
    const t = tempRoot();
    cleanup = t.cleanup;
    await buildPreparedHost(t.root, t.files);
    writeFileSync(path.join(t.root, paths.backupManifest), 'not json at all');
    const plan = await planReset({ files: hostFiles(t.root, true), proc: new FakeProc(true).on('getenforce', { stdout: 'Permissive\n' }).on('systemctl is-active firewalld', { stdout: 'active\n' }) }, { all: true, purgePackages: false });
    assert.ok(plan.warnings.some((w) => /backup manifest .* is not valid JSON/.test(w)), plan.warnings.join('\n'));
    assert.ok(plan.actions.some((a) => a.title.startsWith('restore /etc/fstab')), plan.actions.map((a) => a.title).join('\n'));
  });
});

describe('bookkeeping: a corrupt state.json', () => {
  it('is kept aside with a warning, not reset without a word', async () => {
    const t = tempRoot();
    cleanup = t.cleanup;
    await saveState(t.files, { ...emptyState(), published: { joined: true } });
    writeFileSync(path.join(t.root, paths.state), '{"version": 1, "steps": {');
    const said: string[] = [];
    const s = await loadState(t.files, (m) => said.push(m));
    assert.deepEqual(s.steps, {});
    assert.match(said.join('\n'), /state\.json is not valid JSON: kept as .*state\.json\.corrupt-.*; starting with an empty state/);
    const aside = readdirSync(path.join(t.root, paths.stateDir)).filter((f) => f.startsWith('state.json.corrupt-'));
    assert.equal(aside.length, 1);
  });
});

describe('bookkeeping: write order', () => {
  it('a write that fails (full /etc) leaves no manifest entry describing it', needs(asRoot, 'needs root to mount a tmpfs'), async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'ja-order-'));
    const etc = path.join(root, 'etc');
    mkdirSync(etc);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'ja-order', etc]);
    cleanup = () => {
      execFileSync('umount', ['-l', etc]);
      rmSync(root, { recursive: true, force: true });
    };
    const files = hostFiles(root);
    await files.write('/etc/hosts', 'v1\n');
    try {
      writeFileSync(path.join(etc, 'filler'), Buffer.alloc(128 * 1024));
    } catch {
      // ENOSPC: /etc is full now, /var/lib/joinagent (another filesystem) is not
    }
    await assert.rejects(files.write('/etc/hosts', 'v2 '.repeat(20_000)), /ENOSPC|no space/);
    assert.equal(readFileSync(path.join(etc, 'hosts'), 'utf8'), 'v1\n');
    const e = (await readManifest(files))['/etc/hosts'];
    const written = e.written ? readFileSync(path.join(root, e.written), 'utf8') : undefined;
    assert.ok(written === 'v1\n', `the manifest describes the write that happened, not the one that failed (its copy holds ${JSON.stringify(written?.slice(0, 20))})`);
    assert.ok(existsSync(path.join(root, paths.backupManifest)));
  });
});
