import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

// The .deb and .rpm that build.sh makes (packaging/build-packages.sh), built here from
// dist/joinagent into a temp dir, inspected, and installed into temp roots: the binary
// must survive packaging (rpm's strip would break a single-executable binary).
const out = mkdtempSync(path.join(os.tmpdir(), 'joinagent-pkg-'));
const VERSION = '1.2.3-rc1';
const deb = path.join(out, 'joinagent_1.2.3~rc1_amd64.deb');
const rpm = path.join(out, 'joinagent-1.2.3~rc1-1.x86_64.rpm');
const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

before(() => {
  assert.ok(existsSync('dist/joinagent'), 'dist/joinagent is missing: run bash build.sh first');
  const r = spawnSync('bash', ['packaging/build-packages.sh', VERSION, out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(out, { recursive: true, force: true }));

test('.deb: control fields, maintainer scripts and file list', () => {
  const info = sh('dpkg-deb', ['-I', deb]);
  assert.match(info, /^ Package: joinagent$/m);
  assert.match(info, /^ Version: 1\.2\.3~rc1$/m);
  assert.match(info, /^ Architecture: amd64$/m);
  for (const s of ['postinst', 'prerm', 'postrm']) assert.match(info, new RegExp(`\\* +${s} +#!/bin/sh`));
  const files = sh('dpkg-deb', ['-c', deb]);
  assert.match(files, /^-rwxr-xr-x root\/root +\d+ .* \.\/usr\/bin\/joinagent$/m);
  assert.match(files, /^-rw-r--r-- root\/root +\d+ .* \.\/lib\/systemd\/system\/joinagent\.service$/m);
  assert.match(files, /\.\/usr\/share\/doc\/joinagent\/config\.yaml\.example$/m);
  assert.doesNotMatch(files, /usr\/local/, 'packages never install under /usr/local');
});

test('.deb installs into a temp root with dpkg --root, runs, and removes cleanly', () => {
  const root = path.join(out, 'deb-root');
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers']) mkdirSync(path.join(root, d), { recursive: true });
  writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(path.join(root, 'var/lib/dpkg/available'), '');
  // chrootless: the maintainer scripts run here with DPKG_ROOT set; they touch systemd
  // only when $DPKG_ROOT/run/systemd/system exists, which it does not in this root
  const dpkg = (...a: string[]) => sh('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--log=/dev/null', ...a]);
  dpkg('-i', deb);
  assert.equal(sh(path.join(root, 'usr/bin/joinagent'), ['--version']).trim(), sh('dist/joinagent', ['--version']).trim());
  const unit = readFileSync(path.join(root, 'lib/systemd/system/joinagent.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/joinagent run \$JOINAGENT_OPTS$/m);
  assert.equal(unit.replace('ExecStart=/usr/bin/joinagent ', 'ExecStart=/usr/local/bin/joinagent '), readFileSync('systemd/joinagent.service', 'utf8'), 'otherwise the unit is systemd/joinagent.service');
  assert.match(dpkg('-s', 'joinagent'), /^Status: install ok installed$/m);
  dpkg('-r', 'joinagent');
  assert.equal(existsSync(path.join(root, 'usr/bin/joinagent')), false);
});

test('.rpm: file list, scriptlets; installs into a temp root and the binary still runs', () => {
  assert.deepEqual(sh('rpm', ['-qlp', rpm]).trim().split('\n'), ['/usr/bin/joinagent', '/usr/lib/systemd/system/joinagent.service', '/usr/share/doc/joinagent/config.yaml.example']);
  assert.match(sh('rpm', ['-qp', '--qf', '%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n', rpm]), /^joinagent 1\.2\.3~rc1 1 x86_64$/m);
  const scripts = sh('rpm', ['-qp', '--scripts', rpm]);
  assert.match(scripts, /postinstall scriptlet[\s\S]*daemon-reload/);
  assert.match(scripts, /preuninstall scriptlet[\s\S]*disable --now joinagent\.service/);
  const root = path.join(out, 'rpm-root');
  mkdirSync(root);
  const rpmr = (...a: string[]) => sh('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', ...a]);
  rpmr('--initdb');
  rpmr('-i', '--nodeps', '--noscripts', rpm);
  assert.equal(sh(path.join(root, 'usr/bin/joinagent'), ['--version']).trim(), sh('dist/joinagent', ['--version']).trim());
  assert.match(readFileSync(path.join(root, 'usr/lib/systemd/system/joinagent.service'), 'utf8'), /^ExecStart=\/usr\/bin\/joinagent run/m);
  rpmr('-e', '--noscripts', 'joinagent');
  assert.equal(existsSync(path.join(root, 'usr/bin/joinagent')), false);
});

// The arm64 packages carry dist/joinagent-arm64 under the same layout; the packaged binary
// still runs (under qemu-user: this machine is x86-64).
test('arm64 .deb and .rpm: architecture fields, the arm64 binary inside, runs under qemu', (t) => {
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).stdout.trim();
  if (!qemu || !existsSync('dist/joinagent-arm64')) {
    if (process.env.CI === 'true') assert.fail('dist/joinagent-arm64 or qemu-aarch64-static missing (build.sh builds it; .ci/apt-packages.txt has qemu-user-static)');
    return t.skip('no dist/joinagent-arm64 or qemu-aarch64-static');
  }
  const r = spawnSync('bash', ['packaging/build-packages.sh', VERSION, out], { encoding: 'utf8', env: { ...process.env, JOINAGENT_BIN: 'dist/joinagent-arm64', JOINAGENT_ARCH: 'arm64' } });
  assert.equal(r.status, 0, r.stderr);
  const armDeb = path.join(out, 'joinagent_1.2.3~rc1_arm64.deb');
  const armRpm = path.join(out, 'joinagent-1.2.3~rc1-1.aarch64.rpm');
  assert.match(sh('dpkg-deb', ['-I', armDeb]), /^ Architecture: arm64$/m);
  assert.match(sh('rpm', ['-qp', '--qf', '%{NAME} %{VERSION} %{ARCH}\n', armRpm]), /^joinagent 1\.2\.3~rc1 aarch64$/m);
  const root = path.join(out, 'arm64-root');
  mkdirSync(root);
  sh('dpkg-deb', ['-x', armDeb, root]);
  const run = spawnSync(qemu, [path.join(root, 'usr/bin/joinagent'), '--version'], { encoding: 'utf8', env: { QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu' } });
  assert.equal(run.stdout.trim(), sh('dist/joinagent', ['--version']).trim(), run.stderr);
  const rpmRoot = path.join(out, 'arm64-rpm-root');
  mkdirSync(rpmRoot);
  const rpmr = (...a: string[]) => sh('rpm', ['--root', rpmRoot, '--dbpath', '/var/lib/rpm', ...a]);
  rpmr('--initdb');
  // --ignorearch: this machine's rpm would refuse an aarch64 package
  rpmr('-i', '--ignorearch', '--nodeps', '--noscripts', armRpm);
  assert.equal(readFileSync(path.join(rpmRoot, 'usr/bin/joinagent')).subarray(18, 20).readUInt16LE(0), 183, 'the rpm holds the arm64 (EM_AARCH64) binary');
});
