import * as grpc from '@grpc/grpc-js';
import { CriError } from './errors.js';
import * as m from './messages.js';

export { CriError };

// A small CRI v1 client over the runtime's unix socket: the same API kubelet and kubeadm
// use, so what it reports is what they will see. No crictl needed on the host.

const RUNTIME = '/runtime.v1.RuntimeService';
const IMAGES = '/runtime.v1.ImageService';

export interface CriClientOptions {
  /** Deadline of quick calls (Version, Status, ImageStatus, ListImages). */
  timeoutMs?: number;
}

export class CriClient {
  private readonly client: grpc.Client;
  private readonly timeoutMs: number;

  // socketPath is a filesystem path (already mapped under --root by the caller).
  constructor(
    readonly socketPath: string,
    opts: CriClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    // Image refs and config JSON are small; the limits only guard against a runaway peer.
    this.client = new grpc.Client(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
  }

  version(): Promise<m.VersionInfo> {
    return this.call(`${RUNTIME}/Version`, m.encodeVersionRequest(), m.decodeVersionResponse);
  }

  status(verbose = false): Promise<m.RuntimeStatusInfo> {
    return this.call(`${RUNTIME}/Status`, m.encodeStatusRequest(verbose), m.decodeStatusResponse);
  }

  imageStatus(ref: string): Promise<m.CriImage | null> {
    return this.call(`${IMAGES}/ImageStatus`, m.encodeImageStatusRequest(ref), m.decodeImageStatusResponse);
  }

  listImages(): Promise<m.CriImage[]> {
    return this.call(`${IMAGES}/ListImages`, m.encodeListImagesRequest(), m.decodeListImagesResponse);
  }

  // A pull can take minutes on a slow link; the caller passes its own deadline.
  pullImage(ref: string, timeoutMs = 15 * 60_000, signal?: AbortSignal): Promise<string> {
    return this.call(`${IMAGES}/PullImage`, m.encodePullImageRequest(ref), m.decodePullImageResponse, timeoutMs, signal);
  }

  close(): void {
    this.client.close();
  }

  private call<T>(method: string, body: Buffer, decode: (b: Buffer) => T, timeoutMs = this.timeoutMs, signal?: AbortSignal): Promise<T> {
    const short = method.split('/').pop()!;
    return new Promise<T>((resolve, reject) => {
      const call = this.client.makeUnaryRequest<Buffer, Buffer>(
        method,
        (b) => b,
        (b) => b,
        body,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) return reject(new CriError(short, err.code ?? grpc.status.UNKNOWN, err.details || err.message));
          try {
            resolve(decode(res ?? Buffer.alloc(0)));
          } catch (e) {
            reject(new CriError(short, grpc.status.INTERNAL, `cannot decode the runtime's answer: ${(e as Error).message}`));
          }
        },
      );
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
