import type { X509Certificate } from 'node:crypto';
import { crypto } from '../host/crypto.js';

// kubeadm's CA pin (RFC 7469 style): "sha256:" + hex of the SHA-256 of the certificate's
// DER SubjectPublicKeyInfo, the same value as
// `openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum`.
export function caPin(cert: X509Certificate): string {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${crypto().createHash('sha256').update(spki).digest('hex')}`;
}

// Every certificate in a PEM bundle (a cluster CA file may hold more than one).
export function parsePemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new (crypto().X509Certificate)(b));
}

// Pins of a PEM or DER input; throws with a readable message when it holds no certificate.
export function pinsOf(data: Buffer | string, source: string): string[] {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  let certs: X509Certificate[];
  try {
    certs = text.includes('-----BEGIN CERTIFICATE-----') ? parsePemCertificates(text) : [new (crypto().X509Certificate)(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)];
  } catch (e) {
    throw new Error(`${source}: not a readable X.509 certificate (${(e as Error).message})`, { cause: e });
  }
  if (certs.length === 0) throw new Error(`${source}: holds no certificate`);
  return certs.map(caPin);
}

// kubeadm accepts the CA when any certificate matches any pin (case-insensitive hex).
export function pinMatches(pins: string[], wanted: string[]): string | undefined {
  const want = new Set(wanted.map((w) => w.toLowerCase()));
  return pins.find((p) => want.has(p));
}

export function shortPin(pin: string): string {
  return `${pin.slice(0, 19)}…`;
}
