import { crypto } from '../host/crypto.js';

// The bootstrap-token signing scheme of k8s.io/cluster-bootstrap (token/jws): a compact
// JWS with HS256, protected header {"alg":"HS256","kid":"<token-id>"} (JSON keys in
// that order, as go-jose serialises its header map), payload = the cluster-info
// kubeconfig string, with the payload part left out ("header..signature", RFC 7515
// appendix F). The HMAC key is the token secret; kubeadm zero-pads it to 32 bytes for
// go-jose, which gives the same HMAC because HMAC zero-pads short keys anyway.

export interface BootstrapToken {
  id: string;
  secret: string;
}

// "abcdef.0123456789abcdef" -> id and secret; the id is public, the secret is not.
export function splitToken(token: string): BootstrapToken {
  const m = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(token.trim());
  if (!m) throw new Error('bootstrap token is not of the form [a-z0-9]{6}.[a-z0-9]{16} (value not shown)');
  return { id: m[1], secret: m[2] };
}

// The detached JWS kubeadm's control plane stores under jws-kubeconfig-<token-id>.
export function detachedJws(content: string, tokenId: string, tokenSecret: string): string {
  const header = b64url(Buffer.from(JSON.stringify({ alg: 'HS256', kid: tokenId })));
  const payload = b64url(Buffer.from(content, 'utf8'));
  const key = Buffer.alloc(Math.max(32, Buffer.byteLength(tokenSecret)));
  key.write(tokenSecret);
  const sig = crypto().createHmac('sha256', key).update(`${header}.${payload}`).digest();
  return `${header}..${b64url(sig)}`;
}

// kubeadm recomputes the signature and compares the whole string; same here, in
// constant time so a timing side channel cannot guess the secret.
export function verifyDetachedJws(jws: string, content: string, tokenId: string, tokenSecret: string): boolean {
  const want = Buffer.from(detachedJws(content, tokenId, tokenSecret));
  const got = Buffer.from(jws.trim());
  return want.length === got.length && crypto().timingSafeEqual(want, got);
}

// Why it failed, for the diagnosis: a malformed value or a foreign kid is not "wrong secret".
export function describeJws(jws: string, tokenId: string): string | undefined {
  const parts = jws.trim().split('.');
  if (parts.length !== 3 || parts[1] !== '') return 'is not a detached JWS (header..signature)';
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: string; kid?: string };
    if (header.alg !== 'HS256') return `uses algorithm ${String(header.alg)}, not HS256`;
    if (header.kid !== undefined && header.kid !== tokenId) return `is signed for token id "${header.kid}", not "${tokenId}"`;
  } catch {
    return 'has an unreadable header';
  }
  return undefined;
}

export function b64url(b: Buffer): string {
  return b.toString('base64url');
}
