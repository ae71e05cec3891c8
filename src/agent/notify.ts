import type { Proc } from '../host/proc.js';
import { redact } from '../host/redact.js';

export interface NotifyMessage {
  ready?: boolean;
  stopping?: boolean;
  status?: string;
}

export interface Notifier {
  readonly enabled: boolean;
  send(m: NotifyMessage): Promise<void>;
}

// Talks to systemd's notify socket (Type=notify) through `systemd-notify`: Node has no
// AF_UNIX datagram sockets and a native addon would break the single binary. --pid names
// our PID so systemd attributes the message to the unit even after systemd-notify exits.
// Without NOTIFY_SOCKET (not under systemd) every call is a no-op. Messages are sent one
// at a time and only the newest pending status is kept, so a burst of step starts
// never queues a burst of processes.
export function systemdNotifier(proc: Proc, env: NodeJS.ProcessEnv = process.env, pid = process.pid): Notifier {
  const enabled = Boolean(env.NOTIFY_SOCKET);
  let chain: Promise<void> = Promise.resolve();
  let pendingStatus: string | undefined;
  const sendNow = async (m: NotifyMessage): Promise<void> => {
    const args = [`--pid=${pid}`];
    if (m.ready) args.push('--ready');
    if (m.status !== undefined) args.push(`--status=${redact(m.status).replace(/\n/g, ' ').slice(0, 200)}`);
    if (m.stopping) args.push('STOPPING=1');
    // probe(): telling systemd our state changes nothing on the host
    await proc.probe('systemd-notify', args, { allowFailure: true, timeoutMs: 10_000, env: { NOTIFY_SOCKET: env.NOTIFY_SOCKET ?? '' } }).catch(() => undefined);
  };
  return {
    enabled,
    send(m) {
      if (!enabled) return Promise.resolve();
      if (!m.ready && !m.stopping && m.status !== undefined) {
        // a plain status update: coalesce with any not yet sent
        const queued = pendingStatus !== undefined;
        pendingStatus = m.status;
        if (queued) return chain;
        chain = chain.then(() => {
          const status = pendingStatus!;
          pendingStatus = undefined;
          return sendNow({ status });
        });
        return chain;
      }
      chain = chain.then(() => sendNow(m));
      return chain;
    },
  };
}
