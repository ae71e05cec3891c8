import { spawnSync } from 'node:child_process';

// A test that needs a tool or a privilege this machine may lack is skipped on a
// developer's machine, but never in CI: with CI=true a missing prerequisite fails the
// test with what to install, so a green CI run cannot hide an untested feature.
export function needs(ok: boolean, what: string): { skip?: string } {
  if (ok || process.env.CI !== 'true') return ok ? {} : { skip: what };
  throw new Error(`${what}, and CI=true forbids skipping: add the package to .ci/apt-packages.txt`);
}

// true when `cmd` can be found on PATH (as `command -v` sees it).
export function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', cmd]).status === 0;
}

export const asRoot = process.getuid?.() === 0;
