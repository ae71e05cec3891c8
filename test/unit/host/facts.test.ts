import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { distroFamily, parseOsRelease } from '../../../src/host/facts.js';
import { repositoryPlan } from '../../../src/steps/host/packages/index.js';
import { testConfig } from '../../helpers/fakes.js';
import { FIXTURES } from './sim-host.js';

const cases: [file: string, id: string, family: 'rhel' | 'debian', codename: string | undefined, dockerRepo: string][] = [
  ['rocky-10', 'rocky', 'rhel', undefined, 'https://download.docker.com/linux/centos/$releasever/$basearch/stable'],
  ['rhel-9', 'rhel', 'rhel', undefined, 'https://download.docker.com/linux/centos/$releasever/$basearch/stable'],
  ['fedora-41', 'fedora', 'rhel', '', 'https://download.docker.com/linux/fedora/$releasever/$basearch/stable'],
  ['debian-12', 'debian', 'debian', 'bookworm', 'https://download.docker.com/linux/debian bookworm stable'],
  ['ubuntu-24.04', 'ubuntu', 'debian', 'noble', 'https://download.docker.com/linux/ubuntu noble stable'],
];

// Real /etc/os-release files decide the family, and with it the package manager and
// the repositories the packages step writes.
describe('os-release fixtures', () => {
  for (const [file, id, family, codename, dockerRepo] of cases) {
    it(`${file}: ${family} family, ${dockerRepo.split(' ')[0]}`, () => {
      const osr = parseOsRelease(readFileSync(path.join(FIXTURES, 'os-release', file), 'utf8'));
      assert.equal(osr.ID, id);
      assert.equal(distroFamily(osr), family);
      assert.equal(osr.VERSION_CODENAME, codename);
      const plan = repositoryPlan(testConfig({ containerd: { source: 'docker', registryMirrors: {} } }), { family, arch: 'x64' }, { id, codename: osr.VERSION_CODENAME || undefined });
      const all = plan.files.map((f) => f.content).join('\n');
      assert.ok(all.includes(dockerRepo), all);
      assert.equal(plan.files[0].path, family === 'debian' ? '/etc/apt/sources.list.d/kubernetes.list' : '/etc/yum.repos.d/kubernetes.repo');
    });
  }
  it('an unknown distribution has no family (the packages step then fails naming it)', () => {
    assert.equal(distroFamily(parseOsRelease('ID=alpine\nVERSION_ID=3.20\n')), undefined);
  });
});
