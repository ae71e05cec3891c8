import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { withCacheLock } from './cache-lock.js';
import { cacheDir } from './paths.js';
import { sh } from './sh.js';

export interface SigningKey {
  /** gpg arguments for unattended use (no pinentry, empty passphrase) */
  args: string[];
  env: Record<string, string>;
  /** armored public key on this host */
  publicKey: string;
}

const ARGS = ['--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', ''];
// One key per signer, as upstream has: pkgs.k8s.io's (also every apt test repository),
// Docker's, the distribution's, and one that signed nothing.
const USER_IDS = {
  repo: 'joinagent e2e repository <e2e@joinagent.invalid>',
  docker: 'joinagent e2e Docker-style repository <docker@joinagent.invalid>',
  distro: 'joinagent e2e distribution repository <distro@joinagent.invalid>',
  other: 'joinagent e2e unrelated key <other@joinagent.invalid>',
};
export type KeyName = keyof typeof USER_IDS;

export function keyUserId(name: KeyName): string {
  return USER_IDS[name];
}

// A cached OpenPGP key pair ('other' is a valid key that signed nothing: a repository
// configured with the wrong key). Made once under
// withCacheLock: two runs making it at once would each wipe the other's half-made home.
export async function cachedKey(name: KeyName = 'repo'): Promise<SigningKey> {
  const home = path.join(cacheDir, name === 'repo' ? 'gnupg' : `gnupg-${name}`);
  const publicKey = path.join(cacheDir, name === 'repo' ? 'repo-key.asc' : `${name}-key.asc`);
  const env = { GNUPGHOME: home };
  if (!existsSync(publicKey)) {
    await withCacheLock(`gnupg-${name}`, async () => {
      if (existsSync(publicKey)) return;
      await fs.rm(home, { recursive: true, force: true });
      await fs.mkdir(home, { recursive: true, mode: 0o700 });
      await sh('gpg', [...ARGS, '--quick-gen-key', USER_IDS[name], 'rsa3072', 'sign', 'never'], { env });
      const pub = (await sh('gpg', ['--batch', '--armor', '--export'], { env })).stdout;
      await sh('gpgconf', ['--kill', 'gpg-agent'], { env, allowFailure: true });
      // the public key last: its presence says the home is complete
      await fs.writeFile(publicKey + '.tmp', pub);
      await fs.rename(publicKey + '.tmp', publicKey);
    });
  }
  return { args: ARGS, env, publicKey };
}

// Runs fn with a private copy of the key's GNUPGHOME. gpg starts one gpg-agent per home:
// with the cached home shared, one run's `gpgconf --kill gpg-agent` broke another's
// signing mid-way ("gpg: signing failed: Broken pipe", seen with two worktrees at once).
export async function withSigningKey<T>(fn: (key: SigningKey) => Promise<T>, name: KeyName = 'repo'): Promise<T> {
  const cached = await cachedKey(name);
  // short path: gpg-agent's socket lives in the home and socket paths are limited to ~100 bytes
  const home = await fs.mkdtemp('/var/tmp/ja-gpg-');
  const env = { GNUPGHOME: home };
  try {
    await fs.chmod(home, 0o700);
    // the keys and the trust database; no sockets, lock files or backups
    await sh('cp', ['-a', '--', ...['private-keys-v1.d', 'pubring.kbx', 'trustdb.gpg'].map((f) => path.join(cached.env.GNUPGHOME, f)), home]);
    return await fn({ args: ARGS, env, publicKey: cached.publicKey });
  } finally {
    await sh('gpgconf', ['--kill', 'gpg-agent'], { env, allowFailure: true });
    await fs.rm(home, { recursive: true, force: true });
  }
}
