import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseStatus } from '../../../src/bundle/base-status.js';

const stanza = (name: string, fields: Record<string, string>, status = 'install ok installed'): string => [`Package: ${name}`, `Status: ${status}`, ...Object.entries(fields).map(([k, v]) => `${k}: ${v}`), 'Description: x', ' more'].join('\n');
const names = (s: string): string[] => [...s.matchAll(/^Package: (\S+)/gm)].map((m) => m[1]);

describe('bundle: the base packages every node of the release has', () => {
  it('required and Essential packages with everything they depend on; not what this machine merely has', () => {
    const status = [
      stanza('libc6', { Priority: 'optional' }),
      stanza('mount', { Priority: 'required', 'Pre-Depends': 'libmount1 (>= 2.38)', Depends: 'util-linux (= 2.38.1-5)' }),
      stanza('libmount1', { Priority: 'optional', Depends: 'libc6 (>= 2.34)' }),
      stanza('util-linux', { Essential: 'yes', Priority: 'required', Depends: 'mawk | awk' }),
      stanza('mawk', { Priority: 'required', Provides: 'awk' }),
      stanza('gawk', { Priority: 'optional', Provides: 'awk' }),
      stanza('dash', { Essential: 'yes', Priority: 'required', Depends: 'debianutils:any' }),
      stanza('debianutils', { Priority: 'required' }),
      // what a build machine has on top: iptables must still go into a bundle
      stanza('iptables', { Priority: 'optional', Depends: 'libxtables12 (= 1.8.9-2), libc6' }),
      stanza('libxtables12', { Priority: 'optional' }),
      stanza('oldpkg', { Priority: 'required' }, 'deinstall ok config-files'),
    ].join('\n\n');
    const base = baseStatus(status);
    assert.deepEqual(names(base), ['libc6', 'mount', 'libmount1', 'util-linux', 'mawk', 'gawk', 'dash', 'debianutils']);
    assert.match(base, /^Package: mount\nStatus: install ok installed\nPriority: required\nPre-Depends: libmount1 \(>= 2\.38\)\nDepends: util-linux \(= 2\.38\.1-5\)\nDescription: x\n more$/m, 'stanzas kept as dpkg wrote them');
  });
});
