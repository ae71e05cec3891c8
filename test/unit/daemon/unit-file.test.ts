import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { needs, onPath } from '../../helpers/needs.js';

const UNIT = readFileSync('systemd/joinagent.service', 'utf8');

// Directive -> values per section, comments dropped (what systemd would read).
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1];
      out[section] ??= {};
      continue;
    }
    const [k, ...v] = line.split('=');
    (out[section][k] ??= []).push(v.join('='));
  }
  return out;
}

test('systemd-analyze verify accepts the unit, without a single warning', needs(onPath('systemd-analyze'), 'systemd-analyze (package systemd) not installed'), () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joinagent-unit-'));
  try {
    // verify also checks that ExecStart exists: point it at an executable that does
    const file = path.join(dir, 'joinagent.service');
    writeFileSync(file, UNIT.replace('/usr/local/bin/joinagent', process.execPath));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'unknown keys and bad values are only warnings: there must be none');

    // and the check can fail: a typo is reported
    writeFileSync(file, UNIT.replace('/usr/local/bin/joinagent', process.execPath).replace(/^KillMode=mixed$/m, 'KillMode=mixd'));
    assert.match(spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' }).stderr, /kill mode/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the unit does what an unattended join needs', () => {
  const u = parseUnit(UNIT);
  const unit = u.Unit;
  const svc = u.Service;
  assert.deepEqual(unit.Wants, ['network-online.target']);
  assert.ok(unit.After.some((a) => a.split(' ').includes('network-online.target')));
  assert.deepEqual(unit.StartLimitIntervalSec, ['0'], 'no start-limit lock-out');
  assert.ok(!unit.After.join(' ').includes('cloud-final'), 'never ordered after cloud-final (runcmd starts it)');
  // multi-user.target must not wait for the join (see the unit's comment): no implicit After=
  assert.deepEqual(unit.DefaultDependencies, ['no']);
  assert.deepEqual(unit.Conflicts, ['shutdown.target']);
  assert.ok(unit.Before.includes('shutdown.target'));
  assert.deepEqual(svc.Type, ['notify']);
  assert.deepEqual(svc.NotifyAccess, ['all']);
  assert.deepEqual(svc.TimeoutStartSec, ['infinity']);
  assert.deepEqual(svc.KillMode, ['mixed']);
  assert.ok(Number.parseInt(svc.TimeoutStopSec[0]) >= 10 && svc.TimeoutStopSec[0].endsWith('min'), 'long enough for a package transaction');
  assert.deepEqual(svc.Restart, ['on-failure']);
  assert.ok(svc.RestartSec);
  assert.deepEqual(svc.EnvironmentFile, ['-/etc/default/joinagent']);
  assert.deepEqual(svc.ExecStart, ['/usr/local/bin/joinagent run $JOINAGENT_OPTS']);
  assert.deepEqual(svc.ExecReload, ['/bin/kill -HUP $MAINPID']);
  assert.match(UNIT, /^#LoadCredential=join-token:\/etc\/joinagent\/token$/m, 'the credential is offered, commented out');
  for (const forbidden of ['ProtectSystem', 'ProtectKernelTunables', 'ProtectKernelModules', 'MemoryDenyWriteExecute', 'User', 'PrivateNetwork']) {
    assert.equal(svc[forbidden], undefined, `${forbidden} would break the job`);
    assert.match(UNIT, new RegExp(`# - .*${forbidden}`), `the unit says why ${forbidden} is not used`);
  }
  assert.deepEqual(u.Install.WantedBy, ['multi-user.target']);
});

