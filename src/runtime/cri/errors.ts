// gRPC status codes (grpc/grpc doc/statuscodes.md), so CriError needs no @grpc/grpc-js:
// the steps test `instanceof CriError` without loading the gRPC stack at start-up.
export const GRPC_STATUS = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5,
  ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9,
  ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
  DATA_LOSS: 15, UNAUTHENTICATED: 16,
} as const;
const NAMES = Object.fromEntries(Object.entries(GRPC_STATUS).map(([k, v]) => [v, k])) as Record<number, string>;

// A failed CRI call, with the gRPC status kept so callers can tell "CRI disabled"
// (UNIMPLEMENTED) from "runtime down" (UNAVAILABLE) from a registry failure.
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`CRI ${method}: ${NAMES[code] ?? code}: ${details}`);
    this.name = 'CriError';
  }

  get unimplemented(): boolean {
    return this.code === GRPC_STATUS.UNIMPLEMENTED;
  }

  get unavailable(): boolean {
    return this.code === GRPC_STATUS.UNAVAILABLE || this.code === GRPC_STATUS.DEADLINE_EXCEEDED;
  }
}
