import { promises as fs } from 'node:fs';
import path from 'node:path';
import { hostDebianMirror } from './mirror.js';
import { sh } from './sh.js';

// `apt-get download PKG=VERSION` from Debian sid into dir, through a private apt list on
// the host's own Debian mirror (the host's apt setup is not touched). The caller holds the
// cache lock and checks the file it expects.
export async function downloadSidPackage(pkg: string, version: string, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const lists = await fs.mkdtemp('/var/tmp/ja-e2e-sid-');
  try {
    await fs.mkdir(path.join(lists, 'lists/partial'), { recursive: true });
    await fs.writeFile(path.join(lists, 'sources.list'), `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${hostDebianMirror()} sid main\n`);
    const o = ['-o', `Dir::Etc::sourcelist=${lists}/sources.list`, '-o', 'Dir::Etc::sourceparts=/nonexistent', '-o', `Dir::State::Lists=${lists}/lists`];
    await sh('apt-get', [...o, 'update', '-qq'], { timeoutMs: 10 * 60_000 });
    await sh('apt-get', [...o, 'download', `${pkg}=${version}`], { cwd: dir, timeoutMs: 10 * 60_000 });
  } finally {
    await fs.rm(lists, { recursive: true, force: true });
  }
}
