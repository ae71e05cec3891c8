import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { pinMatches } from './capin.js';
import type { LocalJoinState } from './local.js';

// joinagent's own record of a `kubeadm join` it started: written before kubeadm runs,
// removed once kubeadm has exited (success or failure). Still there on the next run =
// that join was interrupted (agent killed, power loss), and its leftovers are ours.
export interface JoinAttempt {
  startedAt: string;
  pid: number;
  apiServer: string;
  /** The cluster CA pins joinagent expected when it started kubeadm. */
  pins: string[];
}

export async function readJoinAttempt(files: Files): Promise<JoinAttempt | undefined> {
  const raw = await files.read(paths.joinAttempt);
  if (raw === null) return undefined;
  try {
    const a = JSON.parse(raw) as Partial<JoinAttempt>;
    return { startedAt: String(a.startedAt ?? 'unknown'), pid: Number(a.pid ?? 0), apiServer: String(a.apiServer ?? ''), pins: Array.isArray(a.pins) ? a.pins.map(String) : [] };
  } catch {
    // written atomically, so unparsable means someone else wrote it: not proof of ours
    return undefined;
  }
}

export async function recordJoinAttempt(files: Files, attempt: JoinAttempt): Promise<void> {
  await files.mkdir(paths.stateDir, 0o700);
  await files.write(paths.joinAttempt, JSON.stringify(attempt, null, 2) + '\n', { mode: 0o600, backup: false });
}

export async function clearJoinAttempt(files: Files): Promise<void> {
  await files.remove(paths.joinAttempt, { backup: false });
}

// Pure: may joinagent clean up these leftovers by itself? Only when its own record says
// it started the join that left them, kubeadm never got as far as kubelet.conf (so the
// node is joined nowhere), and a cluster CA kubeadm already copied is the one we expect
// (a CA of another cluster means someone else joined since: not ours to reset).
export function interruptedByUs(local: LocalJoinState, attempt: JoinAttempt | undefined, expected: string[]): boolean {
  if (!attempt || local.kubeletConf || local.leftovers.length === 0) return false;
  if (local.caPins.length === 0) return true;
  const known = [...expected, ...attempt.pins];
  return known.length > 0 && pinMatches(local.caPins, known) !== undefined;
}
