import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { install, type InstallOptions } from '../../../src/install/install.js';
import { uninstall } from '../../../src/install/uninstall.js';
import { FakeProc, tempRoot } from '../../helpers/fakes.js';

// systemctl as a state machine, like the real one: is-enabled / is-active answer with
// text and exit code; enable/start/stop/disable change the answers.
function fakeSystemctl(): { proc: FakeProc; state: { enabled: boolean; active: boolean } } {
  const state = { enabled: false, active: false };
  const proc = new FakeProc();
  proc.on(/^systemctl /, (c) => {
    switch (c.args[0]) {
      case 'is-enabled':
        return state.enabled ? { stdout: 'enabled\n' } : { stdout: 'disabled\n', exitCode: 1 };
      case 'is-active':
        return state.active ? { stdout: 'active\n' } : { stdout: 'inactive\n', exitCode: 3 };
      case 'enable':
      case 'disable':
        state.enabled = c.args[0] === 'enable';
        return {};
      case 'start':
      case 'stop':
        state.active = c.args[0] === 'start';
        return {};
      default:
        return {};
    }
  });
  return { proc, state };
}

function setup(opts: { booted?: boolean } = {}) {
  const t = tempRoot('joinagent-install-');
  if (opts.booted !== false) mkdirSync(path.join(t.root, 'run/systemd/system'), { recursive: true });
  const srcConfig = path.join(t.root, '..', `${path.basename(t.root)}-config.yaml`);
  const o: InstallOptions = { binary: Buffer.from('#!/bin/sh\necho joinagent v1\n'), unitText: '[Service]\nExecStart=/usr/local/bin/joinagent run\n', configPath: srcConfig, config: Buffer.from('kind: AgentConfiguration\n'), now: true };
  return { ...t, ...fakeSystemctl(), o };
}

test('install --now: binary, unit, config 0600, daemon-reload, enable, start --no-block; a second install changes and runs nothing', async () => {
  const { files, proc, o, root, cleanup } = setup();
  try {
    const first = await install(files, proc, o);
    assert.deepEqual(proc.runs(), ['systemctl daemon-reload', 'systemctl enable joinagent.service', 'systemctl start --no-block joinagent.service']);
    assert.equal(first.actions.length, 6);
    assert.equal(await files.read('/usr/local/bin/joinagent'), '#!/bin/sh\necho joinagent v1\n');
    assert.equal(statSync(path.join(root, 'usr/local/bin/joinagent')).mode & 0o777, 0o755);
    assert.equal(await files.read('/etc/systemd/system/joinagent.service'), o.unitText);
    assert.equal(statSync(path.join(root, 'etc/joinagent/config.yaml')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(root, 'etc/joinagent')).mode & 0o777, 0o700);

    proc.reset();
    const second = await install(files, proc, o);
    assert.deepEqual(second.actions, []);
    assert.deepEqual(proc.runs(), [], 'no daemon-reload, enable or start when nothing changed');
  } finally {
    cleanup();
  }
});

test('re-install over a running agent: a new binary restarts it, a new config only reloads it (SIGHUP)', async () => {
  const { files, proc, o, cleanup } = setup();
  try {
    await install(files, proc, o);
    proc.reset();
    await install(files, proc, { ...o, binary: Buffer.from('#!/bin/sh\necho joinagent v2\n') });
    assert.deepEqual(proc.runs(), ['systemctl try-restart --no-block joinagent.service']);
    proc.reset();
    await install(files, proc, { ...o, binary: Buffer.from('#!/bin/sh\necho joinagent v2\n'), config: Buffer.from('kind: AgentConfiguration # v2\n') });
    assert.deepEqual(proc.runs(), ['systemctl kill --signal=SIGHUP --kill-whom=main joinagent.service']);
  } finally {
    cleanup();
  }
});

test('installing the config that is already in place only fixes its mode', async () => {
  const { files, proc, o, root, cleanup } = setup();
  try {
    const inPlace = path.join(root, 'etc/joinagent/config.yaml');
    mkdirSync(path.dirname(inPlace), { recursive: true });
    writeFileSync(inPlace, 'kind: AgentConfiguration\n', { mode: 0o644 });
    const r = await install(files, proc, { ...o, configPath: inPlace });
    assert.ok(r.actions.includes('installed /etc/joinagent/config.yaml (mode 0600)'));
    assert.equal(statSync(inPlace).mode & 0o777, 0o600);
    assert.equal(await files.read('/etc/joinagent/config.yaml'), 'kind: AgentConfiguration\n');
  } finally {
    cleanup();
  }
});

test('without a running systemd (chroot, image build): enabled for the next boot, nothing started or reloaded', async () => {
  const { files, proc, o, cleanup } = setup({ booted: false });
  try {
    const r = await install(files, proc, o);
    assert.deepEqual(proc.runs(), ['systemctl enable joinagent.service']);
    assert.match(r.notes.join('\n'), /systemd is not running here .* starts at the next boot/);
  } finally {
    cleanup();
  }
});

test('package-managed (.deb/.rpm unit present): the binary and unit are left to the package', async () => {
  const { files, proc, o, cleanup } = setup();
  try {
    await files.write('/lib/systemd/system/joinagent.service', '[Service]\nExecStart=/usr/bin/joinagent run\n');
    const r = await install(files, proc, o);
    assert.equal(await files.exists('/usr/local/bin/joinagent'), false);
    assert.equal(await files.exists('/etc/systemd/system/joinagent.service'), false);
    assert.deepEqual(proc.runs(), ['systemctl enable joinagent.service', 'systemctl start --no-block joinagent.service']);
    assert.match(r.notes[0], /package provides/);
  } finally {
    cleanup();
  }
});

test('uninstall stops, disables and removes; keeps the config unless --purge; a second uninstall runs nothing', async () => {
  const { files, proc, o, cleanup } = setup();
  try {
    await install(files, proc, o);
    proc.reset();
    const r = await uninstall(files, proc, { purge: false });
    assert.deepEqual(proc.runs(), ['systemctl stop joinagent.service', 'systemctl disable joinagent.service', 'systemctl daemon-reload']);
    assert.equal(await files.exists('/usr/local/bin/joinagent'), false);
    assert.equal(await files.exists('/etc/systemd/system/joinagent.service'), false);
    assert.equal(await files.exists('/etc/joinagent/config.yaml'), true);
    assert.match(r.notes.join('\n'), /kept \/etc\/joinagent\/config.yaml/);

    proc.reset();
    assert.deepEqual((await uninstall(files, proc, { purge: false })).actions, []);
    assert.deepEqual(proc.runs(), []);
    const purge = await uninstall(files, proc, { purge: true });
    assert.deepEqual(purge.actions, ['removed /etc/joinagent/config.yaml']);
  } finally {
    cleanup();
  }
});
