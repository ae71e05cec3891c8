// A minimal protocol-buffers wire codec: just what the handful of CRI messages joinagent
// sends and reads need (varints, bools, strings, nested messages, string maps). Writing
// these few messages by hand avoids a protobuf toolchain and generated code in the binary.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

// Builds one message field by field; fields equal to their proto3 default are omitted,
// as every protobuf encoder does.
export class ProtoWriter {
  private parts: Buffer[] = [];

  string(field: number, value: string | undefined): this {
    if (value) this.bytes(field, Buffer.from(value, 'utf8'));
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    if (value) {
      this.tag(field, WIRE_VARINT);
      this.parts.push(Buffer.from([1]));
    }
    return this;
  }

  message(field: number, body: Buffer | undefined): this {
    if (body !== undefined) this.bytes(field, body);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }

  private bytes(field: number, value: Buffer): void {
    this.tag(field, WIRE_LEN);
    this.parts.push(encodeVarint(BigInt(value.length)), value);
  }

  private tag(field: number, wire: number): void {
    this.parts.push(encodeVarint(BigInt((field << 3) | wire)));
  }
}

export function encodeVarint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

export type FieldValue = bigint | Buffer;

// The fields of one message, by number, in wire order (repeated fields keep every value).
export class ProtoFields {
  constructor(private readonly fields: Map<number, FieldValue[]>) {}

  static decode(buf: Buffer): ProtoFields {
    return new ProtoFields(decodeFields(buf));
  }

  string(field: number): string {
    const v = this.last(field);
    return Buffer.isBuffer(v) ? v.toString('utf8') : '';
  }

  strings(field: number): string[] {
    return (this.fields.get(field) ?? []).filter(Buffer.isBuffer).map((b) => b.toString('utf8'));
  }

  bool(field: number): boolean {
    const v = this.last(field);
    return typeof v === 'bigint' && v !== 0n;
  }

  uint(field: number): bigint {
    const v = this.last(field);
    return typeof v === 'bigint' ? v : 0n;
  }

  message(field: number): ProtoFields | undefined {
    const v = this.last(field);
    return Buffer.isBuffer(v) ? ProtoFields.decode(v) : undefined;
  }

  messages(field: number): ProtoFields[] {
    return (this.fields.get(field) ?? []).filter(Buffer.isBuffer).map((b) => ProtoFields.decode(b));
  }

  // map<string,string> travels as repeated entries {key = 1, value = 2}.
  stringMap(field: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const entry of this.messages(field)) out[entry.string(1)] = entry.string(2);
    return out;
  }

  private last(field: number): FieldValue | undefined {
    const all = this.fields.get(field);
    return all?.[all.length - 1];
  }
}

// Walks the wire format; unknown fields are kept generically, so a newer runtime that
// adds fields never breaks decoding.
function decodeFields(buf: Buffer): Map<number, FieldValue[]> {
  const out = new Map<number, FieldValue[]>();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('protobuf: varint too long');
    }
  };
  const take = (n: number): Buffer => {
    if (pos + n > buf.length) throw new Error('protobuf: truncated field');
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: FieldValue;
    if (wire === WIRE_VARINT) value = varint();
    else if (wire === WIRE_LEN) value = take(Number(varint()));
    else if (wire === WIRE_I64) value = take(8);
    else if (wire === WIRE_I32) value = take(4);
    else throw new Error(`protobuf: unsupported wire type ${wire} (field ${field})`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}
