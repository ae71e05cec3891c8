// The operator's kubelet environment file (/etc/default/kubelet on Debian, /etc/sysconfig/
// kubelet on RHEL), read the way systemd's EnvironmentFile= and the kubeadm drop-in use it:
// ExecStart ends with `$KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS`, split on whitespace, and
// for a flag given twice the kubelet (pflag) keeps the last. So a --node-ip there wins over
// the one joinagent has kubeadm write.

/** KUBELET_EXTRA_ARGS of an EnvironmentFile's text (last assignment wins), or undefined. */
export function extraArgsOf(text: string): string | undefined {
  let value: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^(?:export\s+)?KUBELET_EXTRA_ARGS\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[1].trim();
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1);
    value = v;
  }
  return value;
}

/** The --node-ip the kubelet ends up with from these args (the last one given), or undefined. */
export function nodeIPFlag(args: string): string | undefined {
  const words = args.split(/\s+/).filter(Boolean);
  let ip: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const m = /^--?node-ip(?:=(.*))?$/.exec(words[i]);
    if (!m) continue;
    ip = m[1] ?? words[++i];
  }
  return ip;
}
