import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { withCacheLock } from './cache-lock.js';
import { cacheDir } from './paths.js';
import { downloadSidPackage } from './sid.js';
import { sh } from './sh.js';

// A real Kubernetes client for the scenarios: Debian sid's kubectl package (client-go
// underneath), fetched once with a private apt list (the host's own apt setup is not
// touched) and extracted; the binary needs only libc6 >= 2.34, so it runs on the host and
// inside a Debian 12 node. It reads the simulated API server as it reads a real one.
const SID_VERSION = '1.36.4+ds-1';

export async function sidKubectl(): Promise<string> {
  const dir = path.join(cacheDir, `kubectl-${SID_VERSION}`);
  const bin = path.join(dir, 'usr/bin/kubectl');
  if (existsSync(path.join(dir, '.complete'))) return bin;
  return withCacheLock('debs-sid', async () => {
    if (existsSync(path.join(dir, '.complete'))) return bin;
    const debs = path.join(cacheDir, 'debs-sid');
    const deb = path.join(debs, `kubectl_${SID_VERSION}_amd64.deb`);
    if (!existsSync(deb)) {
      await downloadSidPackage('kubectl', SID_VERSION, debs);
      if (!existsSync(deb)) throw new Error(`apt-get download kubectl=${SID_VERSION} left no ${deb}`);
    }
    await fs.rm(dir, { recursive: true, force: true });
    await sh('dpkg-deb', ['-x', deb, dir]);
    await fs.writeFile(path.join(dir, '.complete'), `${SID_VERSION}\n`);
    return bin;
  });
}
