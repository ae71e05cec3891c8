import type { Files } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import type { Proc } from '../../host/proc.js';
import { captureSnapshot, serializeSnapshot } from './capture.js';
import type { Snapshot } from './types.js';

// The agent's own before/after pair, so `joinagent diff` with no arguments shows what
// the agent did to this machine: "before" just ahead of the first change of a run,
// "after" when that run ends. A run that changes nothing leaves the last pair alone.
export class AutoSnapshots {
  private before?: Promise<void>;
  private early?: Promise<Snapshot | Error>;

  constructor(
    private readonly files: Files,
    private readonly proc: Proc,
    private readonly warn: (message: string, hint?: string) => void,
  ) {}

  /** When a run is expected to change the host (a first run): read it now, beside the
   *  checks (read-only, like the snapshot), instead of holding up the first apply.
   *  Nothing is written unless takeBefore() follows. */
  prefetchBefore(): void {
    this.early ??= this.capture('before');
  }

  /** Engine hook: awaited before the first apply of the run (once, even if two steps race). */
  takeBefore(): Promise<void> {
    this.before ??= this.save(this.early ?? this.capture('before'), paths.snapshotBefore).then(() => this.files.remove(paths.snapshotAfter, { backup: false }).then(() => undefined));
    return this.before;
  }

  get tookBefore(): boolean {
    return this.before !== undefined;
  }

  async takeAfter(): Promise<void> {
    if (this.before) await this.save(this.capture('after'), paths.snapshotAfter);
  }

  private capture(label: string): Promise<Snapshot | Error> {
    return captureSnapshot(this.files, this.proc, { label }).catch((e: Error) => e);
  }

  // A snapshot that fails must never fail the join: it becomes a warning.
  private async save(taking: Promise<Snapshot | Error>, file: string): Promise<void> {
    try {
      const snap = await taking;
      if (snap instanceof Error) throw snap;
      await this.files.mkdir(paths.snapshotDir, 0o700);
      await this.files.write(file, serializeSnapshot(snap), { mode: 0o600, backup: false });
    } catch (e) {
      this.warn(`snapshot ${file}: ${(e as Error).message}`, "joinagent diff will not show this run; take one by hand with 'joinagent snapshot'");
    }
  }
}
