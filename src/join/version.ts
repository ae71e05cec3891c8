// Kubernetes version skew between this node's kubelet (config kubernetesVersion, the
// packages joinagent installs) and the API server: the kubelet must never be newer
// than kube-apiserver and may be at most three minor versions older (skew policy).

export interface SkewVerdict {
  level: 'ok' | 'warn' | 'fail';
  message?: string;
  hint?: string;
}

interface Ver {
  major: number;
  minor: number;
  patch: number;
}

export function parseGitVersion(v: string): Ver | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

// Pure: compares the configured kubelet version with the server's gitVersion.
export function versionSkew(kubelet: string, server: string): SkewVerdict {
  const k = parseGitVersion(kubelet);
  const s = parseGitVersion(server);
  if (!k || !s) return { level: 'warn', message: `cannot compare versions: kubelet ${kubelet}, API server ${server}` };
  const cmp = k.major - s.major || k.minor - s.minor || k.patch - s.patch;
  if (cmp === 0) return { level: 'ok' };
  const fix = `set kubernetesVersion to the control plane's version (${server.replace(/[-+].*$/, '')})`;
  if (cmp > 0) {
    return { level: 'fail', message: `kubelet ${kubelet} would be newer than the API server ${server}: unsupported skew (a kubelet must not be newer than kube-apiserver)`, hint: fix };
  }
  if (s.major === k.major && s.minor - k.minor > 3) {
    return { level: 'fail', message: `kubelet ${kubelet} is more than three minor versions older than the API server ${server}: unsupported skew`, hint: fix };
  }
  return { level: 'warn', message: `API server is ${server}, kubernetesVersion is ${kubelet}: versions differ (supported, but the runbook pins the cluster's exact version)`, hint: fix };
}
