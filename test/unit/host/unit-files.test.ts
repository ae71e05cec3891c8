import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { hostFiles } from '../../../src/host/files.js';
import { enabledFromUnitFiles, installTargets } from '../../../src/host/unit-files.js';
import { needs, onPath } from '../../helpers/needs.js';

const UNIT = '[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n';

function systemctl(root: string, unit: string): string {
  try {
    return execFileSync('systemctl', [`--root=${root}`, 'is-enabled', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '').trim();
  }
}

// The file answer may only ever say "enabled" where systemctl says so, and must say it in
// the plain case (a package's unit with WantedBy=, enabled): checked against the real
// systemctl on temp roots.
test('unit files answer "enabled" exactly where systemctl is-enabled does, and abstain otherwise', needs(onPath('systemctl'), 'systemctl (systemd) is needed'), async () => {
  const cases: Record<string, (root: string) => void> = {
    enabled: (r) => {
      writeFileSync(`${r}/usr/lib/systemd/system/k.service`, UNIT);
      symlinkSync('/usr/lib/systemd/system/k.service', `${r}/etc/systemd/system/multi-user.target.wants/k.service`);
    },
    disabled: (r) => writeFileSync(`${r}/usr/lib/systemd/system/k.service`, UNIT),
    masked: (r) => {
      writeFileSync(`${r}/usr/lib/systemd/system/k.service`, UNIT);
      symlinkSync('/usr/lib/systemd/system/k.service', `${r}/etc/systemd/system/multi-user.target.wants/k.service`);
      symlinkSync('/dev/null', `${r}/etc/systemd/system/k.service`);
    },
    static: (r) => writeFileSync(`${r}/usr/lib/systemd/system/k.service`, '[Service]\nExecStart=/bin/true\n'),
    'runtime-masked': (r) => {
      writeFileSync(`${r}/usr/lib/systemd/system/k.service`, UNIT);
      symlinkSync('/usr/lib/systemd/system/k.service', `${r}/etc/systemd/system/multi-user.target.wants/k.service`);
      mkdirSync(`${r}/run/systemd/system`, { recursive: true });
      symlinkSync('/dev/null', `${r}/run/systemd/system/k.service`);
    },
    'admin copy in /etc, enabled': (r) => {
      writeFileSync(`${r}/etc/systemd/system/k.service`, UNIT);
      symlinkSync('/etc/systemd/system/k.service', `${r}/etc/systemd/system/multi-user.target.wants/k.service`);
    },
  };
  for (const [name, make] of Object.entries(cases)) {
    const root = mkdtempSync(path.join(os.tmpdir(), 'ja-units-'));
    try {
      mkdirSync(`${root}/usr/lib/systemd/system`, { recursive: true });
      mkdirSync(`${root}/etc/systemd/system/multi-user.target.wants`, { recursive: true });
      make(root);
      const real = systemctl(root, 'k.service');
      const ours = await enabledFromUnitFiles(hostFiles(root, true), 'k.service');
      if (ours) assert.equal(real, 'enabled', `${name}: the files said enabled, systemctl says ${real}`);
      if (name === 'enabled' || name === 'admin copy in /etc, enabled') assert.equal(ours, true, `${name}: the plain enabled case must be answered without systemctl`);
      else assert.equal(ours, undefined, `${name}: systemctl says ${real}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
});

test('[Install] sections: plain WantedBy/RequiredBy only', () => {
  assert.deepEqual(installTargets(UNIT), [{ target: 'multi-user.target', kind: 'wants' }]);
  assert.deepEqual(installTargets('[Install]\nWantedBy=a.target b.target\nRequiredBy=c.target\n'), [
    { target: 'a.target', kind: 'wants' },
    { target: 'b.target', kind: 'wants' },
    { target: 'c.target', kind: 'requires' },
  ]);
  assert.equal(installTargets('[Install]\nWantedBy=x.target\nAlias=y.service\n'), undefined);
  assert.equal(installTargets('[Install]\nWantedBy=getty@%i.target\n'), undefined);
  assert.equal(installTargets('[Service]\nExecStart=/bin/true\n'), undefined);
});
