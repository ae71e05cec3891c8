import { ProtoFields, ProtoWriter } from './protobuf.js';

// The few CRI v1 messages joinagent uses, with field numbers from kubernetes/cri-api
// pkg/apis/runtime/v1/api.proto (package runtime.v1). Only the fields read or sent here
// are modelled; everything else is skipped on decode.

export const CRI_API_VERSION = 'v1';

export interface VersionInfo {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface RuntimeStatusInfo {
  conditions: RuntimeCondition[];
  /** Verbose info: JSON strings keyed by topic ("config" holds the effective CRI config). */
  info: Record<string, string>;
}

export interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: bigint;
}

// VersionRequest { string version = 1 }
export function encodeVersionRequest(): Buffer {
  return new ProtoWriter().string(1, CRI_API_VERSION).finish();
}

// VersionResponse { version = 1; runtime_name = 2; runtime_version = 3; runtime_api_version = 4 }
export function decodeVersionResponse(buf: Buffer): VersionInfo {
  const f = ProtoFields.decode(buf);
  return { version: f.string(1), runtimeName: f.string(2), runtimeVersion: f.string(3), runtimeApiVersion: f.string(4) };
}

// StatusRequest { bool verbose = 1 }
export function encodeStatusRequest(verbose: boolean): Buffer {
  return new ProtoWriter().bool(1, verbose).finish();
}

// StatusResponse { RuntimeStatus status = 1; map<string,string> info = 2 }
// RuntimeStatus { repeated RuntimeCondition conditions = 1 }
// RuntimeCondition { type = 1; bool status = 2; reason = 3; message = 4 }
export function decodeStatusResponse(buf: Buffer): RuntimeStatusInfo {
  const f = ProtoFields.decode(buf);
  const conditions = (f.message(1)?.messages(1) ?? []).map((c) => ({ type: c.string(1), status: c.bool(2), reason: c.string(3), message: c.string(4) }));
  return { conditions, info: f.stringMap(2) };
}

// ImageSpec { string image = 1 }
function imageSpec(ref: string): Buffer {
  return new ProtoWriter().string(1, ref).finish();
}

// ImageStatusRequest { ImageSpec image = 1; bool verbose = 2 }
export function encodeImageStatusRequest(ref: string): Buffer {
  return new ProtoWriter().message(1, imageSpec(ref)).finish();
}

// ImageStatusResponse { Image image = 1; ... } — image unset when the runtime lacks it.
export function decodeImageStatusResponse(buf: Buffer): CriImage | null {
  const img = ProtoFields.decode(buf).message(1);
  return img ? decodeImage(img) : null;
}

// PullImageRequest { ImageSpec image = 1; AuthConfig auth = 2; PodSandboxConfig sandbox_config = 3 }
export function encodePullImageRequest(ref: string): Buffer {
  return new ProtoWriter().message(1, imageSpec(ref)).finish();
}

// PullImageResponse { string image_ref = 1 }
export function decodePullImageResponse(buf: Buffer): string {
  return ProtoFields.decode(buf).string(1);
}

// ListImagesRequest { ImageFilter filter = 1 } — no filter: every image.
export function encodeListImagesRequest(): Buffer {
  return Buffer.alloc(0);
}

// ListImagesResponse { repeated Image images = 1 }
export function decodeListImagesResponse(buf: Buffer): CriImage[] {
  return ProtoFields.decode(buf).messages(1).map(decodeImage);
}

// Image { id = 1; repeated repo_tags = 2; repeated repo_digests = 3; uint64 size = 4 }
function decodeImage(f: ProtoFields): CriImage {
  return { id: f.string(1), repoTags: f.strings(2), repoDigests: f.strings(3), size: f.uint(4) };
}
