// Exit codes everywhere: 0 success, 1 the operation failed, 2 bad usage or config.
// `status` adds 3 (still working) and 4 (agent not reachable); `run --once` exits 5 when an
// in-place upgrade stopped midway (the next run resumes it; /status says where).
export const EXIT = { ok: 0, failed: 1, usage: 2, working: 3, unreachable: 4, upgradeStopped: 5 } as const;

// Thrown to end a command with a code and a message, without a stack trace.
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.name = 'CliExit';
  }
}
