import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { hostDebianMirror } from '../../e2e/harness/mirror.js';

// The booted nodes are built from the mirror the host's apt names, whatever the format.
const dir = mkdtempSync(path.join(os.tmpdir(), 'ja-mirror-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function etc(name: string, files: Record<string, string>): string {
  const e = path.join(dir, name);
  mkdirSync(path.join(e, 'sources.list.d'), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(e, f), text);
  return e;
}

test('deb822: the bookworm archive, not security, not a third-party repository listed first', () => {
  const e = etc('deb822', {
    'sources.list.d/0-cloud.sources': 'Types: deb\nURIs: https://packages.example.com/apt\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/example.gpg\n',
    'sources.list.d/debian.sources':
      'Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\nURIs: http://mirror.site.internal/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' +
      'Types: deb\nURIs: http://mirror.site.internal/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
  });
  assert.equal(hostDebianMirror('bookworm', e), 'http://mirror.site.internal/debian');
});

test('one-line sources.list, with options and a trailing slash; disabled deb822 stanzas are ignored', () => {
  const e = etc('oneline', {
    'sources.list': '# deb http://commented.example/debian bookworm main\ndeb [arch=amd64] http://ftp.site.example/debian/ bookworm main contrib\n',
    'sources.list.d/x.sources': 'Enabled: no\nTypes: deb\nURIs: http://disabled.example/debian\nSuites: bookworm\n',
  });
  assert.equal(hostDebianMirror('bookworm', e), 'http://ftp.site.example/debian');
});

test('no Debian archive for the suite: an error that says what to set up', () => {
  const e = etc('none', { 'sources.list': 'deb http://ftp.site.example/debian trixie main\n' });
  assert.throws(() => hostDebianMirror('bookworm', e), /no Debian 'bookworm' archive in .*sources\.list.*set one up/);
});
