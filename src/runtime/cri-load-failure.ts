// Why containerd runs without its CRI plugin, from containerd's own log: a plugin that
// fails to initialise is logged once at start-up and skipped, and containerd keeps
// serving everything else. e.g. level=warning msg="failed to load plugin"
// error="failed to create CRI service: ... too many open files" id=io.containerd.grpc.v1.cri
export function criLoadFailure(journal: string): string | undefined {
  const lines = journal.split('\n').filter((l) => /failed to load plugin/.test(l) && /id=io\.containerd\.(grpc\.v1\.cri|cri\.v1\.[a-z]+)\b/.test(l));
  const last = lines.at(-1);
  if (!last) return undefined;
  return /error="((?:[^"\\]|\\.)*)"/.exec(last)?.[1]?.replace(/\\"/g, '"') ?? last.trim();
}

// The next action for a known cause; undefined when the generic hint fits better.
export function criLoadHint(error: string): string | undefined {
  if (/inotify|too many open files/.test(error)) return 'the host ran out of inotify instances (each systemd, journald and containerd takes some): raise fs.inotify.max_user_instances (e.g. sysctl -w fs.inotify.max_user_instances=8192, and a file in /etc/sysctl.d), then systemctl restart containerd';
  return undefined;
}
