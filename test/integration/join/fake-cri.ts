import http2 from 'node:http2';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

// A container runtime's CRI endpoint for tests that run the stand-ins on the build machine
// (no containerd there): gRPC over HTTP/2 on a unix socket, as containerd serves it,
// answering the two calls kubeadm's pre-flight makes. RuntimeService/Version: an empty
// VersionResponse; RuntimeService/Status: RuntimeReady true (or false with reason
// ContainerdNotReady, { ready: false }). Anything else: Unimplemented.
export interface FakeCri {
  socket: string;
  close(): void;
}

// StatusResponse{status: RuntimeStatus{conditions: [{type: "RuntimeReady", status, reason?}]}}
function statusResponse(ready: boolean): Buffer {
  const type = Buffer.from('RuntimeReady');
  const reason = Buffer.from(ready ? '' : 'ContainerdNotReady');
  const condition = Buffer.concat([Buffer.from([0x0a, type.length]), type, ready ? Buffer.from([0x10, 0x01]) : Buffer.concat([Buffer.from([0x1a, reason.length]), reason])]);
  const status = Buffer.concat([Buffer.from([0x0a, condition.length]), condition]);
  return Buffer.concat([Buffer.from([0x0a, status.length]), status]);
}

function frame(msg: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

// Listens at once (the bind is synchronous), so a caller need not wait for it.
export function startFakeCri(socket: string, o: { ready?: boolean } = {}): FakeCri {
  mkdirSync(path.dirname(socket), { recursive: true });
  rmSync(socket, { force: true });
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const method = String(headers[':path']);
    stream.on('data', () => undefined);
    stream.on('end', () => {
      const body = method === '/runtime.v1.RuntimeService/Version' ? frame(Buffer.alloc(0)) : method === '/runtime.v1.RuntimeService/Status' ? frame(statusResponse(o.ready ?? true)) : undefined;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(body ? { 'grpc-status': '0' } : { 'grpc-status': '12', 'grpc-message': `unknown method ${method}` }));
      stream.end(body ?? Buffer.alloc(0));
    });
  });
  server.listen(socket);
  return { socket, close: () => server.close() };
}
