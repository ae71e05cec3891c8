import { crypto } from '../../../host/crypto.js';

// Just enough of OpenPGP (RFC 9580) to name the keys in a repository keyring: the
// fingerprint of every primary key, so repositories.*.keyFingerprints can pin them.
// A keyring apt or rpm would trust for a repository must hold only pinned keys.

// Fingerprints (upper-case hex) of the primary keys, armored or binary input.
export function keyFingerprints(data: Buffer): string[] {
  const out: string[] = [];
  for (const p of packets(dearmor(data))) {
    // tag 6: public key (a subkey is tag 14: it belongs to the primary before it)
    if (p.tag === 6) out.push(fingerprint(p.body));
  }
  return out;
}

function fingerprint(body: Buffer): string {
  const version = body[0];
  if (version === 4) {
    const head = Buffer.from([0x99, body.length >> 8, body.length & 0xff]);
    return crypto().createHash('sha1').update(head).update(body).digest('hex').toUpperCase();
  }
  if (version === 5 || version === 6) {
    const head = Buffer.alloc(5);
    head[0] = version === 5 ? 0x9a : 0x9b;
    head.writeUInt32BE(body.length, 1);
    return crypto().createHash('sha256').update(head).update(body).digest('hex').toUpperCase();
  }
  throw new Error(`an OpenPGP key of version ${version} (joinagent reads versions 4 to 6)`);
}

// The binary packets of an ASCII-armored block (or the input itself when it is binary).
function dearmor(data: Buffer): Buffer {
  const text = data.toString('latin1');
  if (!text.includes('-----BEGIN PGP')) return data;
  const blocks = [...text.matchAll(/-----BEGIN PGP [A-Z ]+-----\r?\n([\s\S]*?)-----END PGP [A-Z ]+-----/g)];
  if (!blocks.length) throw new Error('an armored block without its END line');
  return Buffer.concat(
    blocks.map((m) => {
      // headers end at the first blank line; the "=XXXX" line is the CRC-24 checksum
      const body = m[1].replace(/^[\s\S]*?\r?\n\r?\n/, '');
      return Buffer.from(body.split(/\r?\n/).filter((l) => l && !l.startsWith('=')).join(''), 'base64');
    }),
  );
}

interface Packet {
  tag: number;
  body: Buffer;
}

// Packet framing, old and new format (RFC 9580 4.2).
function packets(buf: Buffer): Packet[] {
  const out: Packet[] = [];
  let i = 0;
  while (i < buf.length) {
    const h = buf[i++];
    if ((h & 0x80) === 0) throw new Error('not an OpenPGP key (bad packet header)');
    let tag: number;
    let len: number;
    if (h & 0x40) {
      tag = h & 0x3f;
      const o = buf[i++];
      if (o < 192) len = o;
      else if (o < 224) len = ((o - 192) << 8) + buf[i++] + 192;
      else if (o === 255) {
        len = buf.readUInt32BE(i);
        i += 4;
      } else throw new Error('not an OpenPGP key (partial-length packet in a key)');
    } else {
      tag = (h >> 2) & 0x0f;
      const lt = h & 0x03;
      if (lt === 3) throw new Error('not an OpenPGP key (indeterminate-length packet)');
      const n = [1, 2, 4][lt];
      len = buf.readUIntBE(i, n);
      i += n;
    }
    if (i + len > buf.length) throw new Error('not an OpenPGP key (truncated packet)');
    out.push({ tag, body: buf.subarray(i, i + len) });
    i += len;
  }
  return out;
}
