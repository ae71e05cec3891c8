import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as m from '../../../src/runtime/cri/messages.js';
import { encodeVarint, ProtoFields, ProtoWriter } from '../../../src/runtime/cri/protobuf.js';

describe('protobuf wire codec', () => {
  it('varints as protoc writes them', () => {
    assert.deepEqual([...encodeVarint(0n)], [0]);
    assert.deepEqual([...encodeVarint(150n)], [0x96, 0x01]);
    assert.deepEqual([...encodeVarint(16777216n)], [0x80, 0x80, 0x80, 0x08]);
  });

  it('requests encode to the bytes protoc gives for runtime.v1 messages', () => {
    // ImageStatusRequest{image: ImageSpec{image: "a"}} = 0a 03 0a 01 61
    assert.equal(m.encodeImageStatusRequest('a').toString('hex'), '0a030a0161');
    // StatusRequest{verbose: true} = 08 01; false is the empty message
    assert.equal(m.encodeStatusRequest(true).toString('hex'), '0801');
    assert.equal(m.encodeStatusRequest(false).length, 0);
    assert.equal(m.encodeVersionRequest().toString('hex'), '0a027631');
  });

  it('decodes a StatusResponse with conditions, a map and fields it does not know', () => {
    const cond = (type: string, ok: boolean) => new ProtoWriter().string(1, type).bool(2, ok).string(3, ok ? '' : 'NetworkPluginNotReady').finish();
    const entry = new ProtoWriter().string(1, 'config').string(2, '{"sandboxImage":"p"}').finish();
    const body = Buffer.concat([
      new ProtoWriter().message(1, new ProtoWriter().message(1, cond('RuntimeReady', true)).message(1, cond('NetworkReady', false)).finish()).message(2, entry).finish(),
      Buffer.from([0x18, 0x05]), // field 3 varint: unknown here, skipped
      Buffer.from([0x25, 1, 2, 3, 4]), // field 4 fixed32: skipped
    ]);
    const st = m.decodeStatusResponse(body);
    assert.deepEqual(st.conditions.map((c) => [c.type, c.status, c.reason]), [['RuntimeReady', true, ''], ['NetworkReady', false, 'NetworkPluginNotReady']]);
    assert.deepEqual(st.info, { config: '{"sandboxImage":"p"}' });
  });

  it('ImageStatus without an image means absent; with one, tags and digests come through', () => {
    assert.equal(m.decodeImageStatusResponse(Buffer.alloc(0)), null);
    const img = new ProtoWriter().string(1, 'sha256:abc').string(2, 'r/p:1').string(2, 'r/p:latest').string(3, 'r/p@sha256:d').finish();
    assert.deepEqual(m.decodeImageStatusResponse(new ProtoWriter().message(1, img).finish()), { id: 'sha256:abc', repoTags: ['r/p:1', 'r/p:latest'], repoDigests: ['r/p@sha256:d'], size: 0n });
  });

  it('truncated input is an error, not garbage', () => {
    assert.throws(() => ProtoFields.decode(Buffer.from([0x0a, 0x05, 0x61])), /truncated/);
  });
});
