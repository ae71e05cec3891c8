// nodeRegistration.criSocket ("unix:///run/containerd/containerd.sock") -> the host path of
// the socket. Only unix sockets exist on Linux workers; anything else is refused clearly.
export function criSocketPath(criSocket: string): string {
  const m = /^unix:\/\/(\/.*)$/.exec(criSocket) ?? /^unix:(\/[^/].*)$/.exec(criSocket);
  if (!m) throw new Error(`nodeRegistration.criSocket "${criSocket}" is not a unix socket URL (unix:///run/containerd/containerd.sock)`);
  return m[1];
}
