import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ProtoFields, ProtoWriter } from '../../src/runtime/cri/protobuf.js';
import { parseToml, valueAt } from '../../src/runtime/toml.js';

// An in-process CRI server on a unix socket for fast unit tests of the runtime steps: it
// answers Version, Status (verbose config JSON), ImageStatus, ListImages and PullImage
// from a little state the test controls, speaking the same wire format as containerd.
export class FakeCri {
  images = new Set<string>();
  pulls: string[] = [];
  systemdCgroup = false;
  sandboxImage = 'registry.k8s.io/pause:3.6';
  /** Make PullImage fail with this gRPC error text. */
  pullError?: string;
  private server = new grpc.Server();

  async start(socket: string): Promise<void> {
    mkdirSync(path.dirname(socket), { recursive: true });
    const unary = (p: string): grpc.MethodDefinition<Buffer, Buffer> => ({ path: p, requestStream: false, responseStream: false, requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b });
    const R = '/runtime.v1.RuntimeService/';
    const I = '/runtime.v1.ImageService/';
    const handle = (fn: (req: ProtoFields) => Buffer) => (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      try {
        cb(null, fn(ProtoFields.decode(call.request)));
      } catch (e) {
        cb({ code: grpc.status.UNKNOWN, details: (e as Error).message });
      }
    };
    this.server.addService(
      { Version: unary(`${R}Version`), Status: unary(`${R}Status`) },
      {
        Version: handle(() => new ProtoWriter().string(1, '0.1.0').string(2, 'fake').string(3, '1.0.0').string(4, 'v1').finish()),
        Status: handle(() => {
          const cond = new ProtoWriter().string(1, 'RuntimeReady').bool(2, true).finish();
          const cfg = JSON.stringify({ sandboxImage: this.sandboxImage, containerd: { runtimes: { runc: { options: { SystemdCgroup: this.systemdCgroup } } } } });
          return new ProtoWriter().message(1, new ProtoWriter().message(1, cond).finish()).message(2, new ProtoWriter().string(1, 'config').string(2, cfg).finish()).finish();
        }),
      },
    );
    this.server.addService(
      { ImageStatus: unary(`${I}ImageStatus`), PullImage: unary(`${I}PullImage`) },
      {
        ImageStatus: handle((req) => {
          const ref = req.message(1)?.string(1) ?? '';
          return this.images.has(ref) ? new ProtoWriter().message(1, new ProtoWriter().string(1, `sha256:${ref.length}`).string(2, ref).finish()).finish() : Buffer.alloc(0);
        }),
        PullImage: handle((req) => {
          const ref = req.message(1)?.string(1) ?? '';
          if (this.pullError) throw new Error(this.pullError);
          this.pulls.push(ref);
          this.images.add(ref);
          return new ProtoWriter().string(1, `sha256:${ref.length}`).finish();
        }),
      },
    );
    await new Promise<void>((resolve, reject) => this.server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  }

  // What a restarted containerd would load from a version 2 config file.
  reload(configText: string): void {
    const doc = parseToml(configText);
    const cri = ['plugins', 'io.containerd.grpc.v1.cri'];
    this.systemdCgroup = valueAt(doc, [...cri, 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup']) === true;
    this.sandboxImage = String(valueAt(doc, [...cri, 'sandbox_image']) ?? 'registry.k8s.io/pause:3.6');
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
