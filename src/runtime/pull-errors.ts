// Turns containerd's PullImage error text into what the operator needs: which registry
// or mirror failed, how, and whether retrying can help. containerd tries each mirror in
// order, then the registry itself, and reports the first non-404 error (or "not found"
// when every host answered 404), so the text names the host that failed first.

export interface PullFailure {
  message: string;
  hint: string;
  retryable: boolean;
}

const UNREACHABLE = /connection refused|no such host|network is unreachable|i\/o timeout|no route to host|connection reset|TLS handshake|server misbehaving|lookup [^ ]+|dial tcp|EOF/i;

export function explainPullFailure(ref: string, upstream: string, mirrors: string[], detail: string): PullFailure {
  const tail = detail.replace(/\s+/g, ' ').trim().slice(-400);
  // the host containerd was talking to when it failed (a mirror or the registry itself)
  const host = /https?:\/\/([^/\s"]+)\/v2\//.exec(detail)?.[1] ?? upstream;
  if (/401 Unauthorized|authorization failed|no basic auth credentials|403 Forbidden/i.test(detail)) {
    return {
      message: `pulling ${ref}: registry ${host} refused the credentials: ${tail}`,
      hint: `check registries."${host}" in the config (username with password/passwordFile, or token); the registry's own log says which user it saw`,
      retryable: false,
    };
  }
  if (/x509|certificate signed by unknown authority|certificate is not valid|failed to verify certificate/i.test(detail)) {
    return {
      message: `pulling ${ref}: the TLS certificate of ${host} is not trusted: ${tail}`,
      hint: `set registries."${host}".ca to the CA bundle that signed it (skipVerify: true only to try, it turns verification off)`,
      retryable: false,
    };
  }
  const failedMirror = mirrors.find((m) => detail.includes(hostPort(m)));
  const via = mirrors.length ? ` (mirrors: ${mirrors.join(', ')})` : '';
  if (failedMirror && UNREACHABLE.test(detail)) {
    return {
      message: `pulling ${ref}: registry mirror ${failedMirror} for ${upstream} is unreachable: ${tail}`,
      hint: `start the mirror or fix containerd.registryMirrors["${upstream}"]; check it with: curl ${failedMirror.replace(/\/+$/, '')}/v2/`,
      retryable: true,
    };
  }
  if (/not found/i.test(detail) && !UNREACHABLE.test(detail)) {
    return {
      message: `pulling ${ref}: not found in ${upstream}${via}`,
      hint: `push the image to the registry${mirrors.length ? ' mirror' : ''} under exactly this name and tag, or set images.repository / kubernetesVersion to what it holds`,
      retryable: false,
    };
  }
  if (mirrors.length && UNREACHABLE.test(detail)) {
    // every mirror answered, none had it, and then the registry itself could not be reached
    return {
      message: `pulling ${ref}: the mirror${mirrors.length > 1 ? 's' : ''} ${mirrors.join(', ')} did not have it, and ${upstream} itself is unreachable: ${tail}`,
      hint: `push ${ref.slice(ref.indexOf('/') + 1)} to the mirror (skopeo copy ... docker://MIRROR/${ref.slice(ref.indexOf('/') + 1)}), or import it with images.archives`,
      retryable: false,
    };
  }
  if (UNREACHABLE.test(detail)) {
    return {
      message: `pulling ${ref}: registry ${upstream} is unreachable: ${tail}`,
      hint: `check network/proxy access to ${upstream}, configure containerd.registryMirrors["${upstream}"], or provide images.archives for air-gapped sites`,
      retryable: true,
    };
  }
  return { message: `pulling ${ref} failed: ${tail}`, hint: 'see `journalctl -u containerd` for the runtime\'s own log', retryable: true };
}

function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
