// Reading kubeadm join's output: its phase lines become step progress, and a failed
// run becomes one message naming what failed and the next action.

// "[kubelet-start] Starting the kubelet" -> "kubelet-start: starting the kubelet"
export function phaseProgress(line: string): string | undefined {
  const l = line.trim();
  if (/This node has joined the cluster/.test(l)) return 'joined: this node has joined the cluster';
  if (/Waiting for the kubelet to perform the TLS Bootstrap/i.test(l)) return 'tls-bootstrap: waiting for the kubelet to perform the TLS bootstrap';
  const m = /^\[([a-z][a-z-]*)\]\s+(.+)$/.exec(l);
  if (!m) return undefined;
  const text = m[2].charAt(0).toLowerCase() + m[2].slice(1);
  return `${m[1]}: ${text}`;
}

export type FailureKind = 'already-joined' | 'preflight' | 'node-exists' | 'discovery' | 'kubelet' | 'tls-bootstrap' | 'other';

export interface JoinFailure {
  kind: FailureKind;
  message: string;
  hint: string;
  /** A `kubeadm reset --force` and a second attempt can fix it (join.resetOnFailure). */
  resettable: boolean;
}

// Pre-flight checks that only fail because an earlier join left its files behind.
const LEFTOVER_CHECKS = /^(FileAvailable--etc-kubernetes-|DirAvailable--etc-kubernetes-manifests|Port-10250)/;

const CHECK_HINTS: [RegExp, string][] = [
  [LEFTOVER_CHECKS, 'this node was joined before, or an earlier join stopped half-way: `kubeadm reset --force` then re-run joinagent (or set join.resetOnFailure: true)'],
  [/^Swap$/, 'swap is on: set host.swap: disable (joinagent turns it off and comments it out of /etc/fstab)'],
  [/^FileContent--proc-sys-net-ipv4-ip_forward$/, 'IPv4 forwarding is off (net.ipv4.ip_forward = 0): let joinagent\'s sysctl step set it (do not --skip sysctl), or `sysctl -w net.ipv4.ip_forward=1` and keep it in /etc/sysctl.d'],
  [/^FileContent--proc-sys-net/, 'kernel settings missing: let joinagent\'s sysctl step prepare the host (net.ipv4.ip_forward=1, net.ipv6.conf.default.forwarding=1 for an IPv6 API server)'],
  [/^CRI$/, 'containerd answers but is not ready, or its CRI plugin failed: `systemctl status containerd`, `crictl info`, check disabled_plugins in /etc/containerd/config.toml'],
  [/^IsPrivilegedUser$/, 'kubeadm must run as root: run joinagent as root'],
  [/^(NumCPU|Mem)$/, 'this machine is below kubeadm\'s minimum (2 CPUs, 1700 MB)'],
  [/^KubeletVersion$/, 'the installed kubelet does not match the cluster: set kubernetesVersion to the control plane\'s version'],
  [/^FileExisting-/, 'a tool kubeadm needs is missing from PATH (ip, iptables, mount, nsenter): install it (the kubelet package depends on iptables; let the packages step install it)'],
];

// kubeadm v1.32 cannot connect to the CRI -> it only warns in pre-flight and runs no CRI
// check; the join then fails at the kubelet. The warning is the cause a user needs.
const CRI_WARNING = /Couldn't create the interface used for talking to the container runtime: .*?validate CRI v1 runtime API for endpoint "([^"]+)": (.*)$/m;

// Pure: kubeadm's combined output and exit code -> the failure to report.
export function classifyJoinFailure(output: string, exitCode: number, timedOut = false): JoinFailure {
  const f = classifyOutput(output, exitCode, timedOut);
  const cri = CRI_WARNING.exec(output);
  if (!cri || f.kind === 'already-joined' || f.kind === 'node-exists' || f.kind === 'discovery') return f;
  return {
    ...f,
    message: `${f.message}; kubeadm's pre-flight could not reach the container runtime at ${cri[1]}: ${cri[2].trim()}`,
    hint: `the container runtime does not answer on nodeRegistration.criSocket (${cri[1]}): start containerd (\`systemctl start containerd\`; do not --skip containerd-running) or set criSocket to containerd's [grpc] address; ${f.hint}`,
  };
}

function classifyOutput(output: string, exitCode: number, timedOut: boolean): JoinFailure {
  const errors = [...output.matchAll(/\[ERROR ([^\]]+)\]:\s*(.*)/g)].map((m) => ({ check: m[1], text: m[2].trim() }));
  if (errors.length) {
    const listed = errors.map((e) => `${e.check} (${e.text})`).join('; ');
    const hints = [...new Set(errors.map((e) => CHECK_HINTS.find(([re]) => re.test(e.check))?.[1] ?? `fix it, or (knowing the risk) add "${e.check}" to nodeRegistration.ignorePreflightErrors`))];
    const leftovers = errors.every((e) => LEFTOVER_CHECKS.test(e.check));
    return { kind: leftovers ? 'already-joined' : 'preflight', message: `kubeadm join failed its pre-flight checks: ${listed}`, hint: hints.join('; '), resettable: leftovers };
  }
  const exists = /a Node with name "([^"]+)" and status "([^"]+)" already exists/.exec(output);
  if (exists) {
    return {
      kind: 'node-exists',
      message: `a Node named "${exists[1]}" (status ${exists[2]}) already exists in the cluster`,
      hint: `if it is this machine's old entry: \`kubectl delete node ${exists[1]}\` on the control plane, then re-run; otherwise give this node another name (nodeRegistration.name)`,
      resettable: false,
    };
  }
  if (/couldn't validate the identity of the API Server|token id .* is invalid|failed to verify JWS signature|none of the public keys/i.test(output)) {
    return { kind: 'discovery', message: `kubeadm discovery failed: ${lastError(output)}`, hint: 'run `joinagent discover` for a step-by-step diagnosis of the endpoint, token and CA pin', resettable: false };
  }
  if (/TLS Bootstrap/i.test(output) && /(timed out|error|failed)/i.test(lastError(output))) {
    return { kind: 'tls-bootstrap', message: `the kubelet's TLS bootstrap did not finish: ${lastError(output)}`, hint: 'check the kubelet journal (`journalctl -u kubelet`), the clock on both sides, and pending CSRs (`kubectl get csr` on the control plane)', resettable: true };
  }
  if (/kubelet.*(not healthy|isn't running|is not running)|10248\/healthz.*failed|The kubelet is not running/i.test(output)) {
    return { kind: 'kubelet', message: `kubelet did not become healthy: ${lastError(output)}`, hint: 'see the kubelet journal lines below (`journalctl -u kubelet -n 50`); common causes: containerd down, cgroup driver mismatch (SystemdCgroup), swap on', resettable: true };
  }
  const why = timedOut ? 'timed out (join.timeout)' : `exited ${exitCode}`;
  return { kind: 'other', message: `kubeadm join ${why}: ${lastError(output)}`, hint: 'read the full kubeadm output in the agent log; `kubeadm reset --force` cleans a half-finished attempt', resettable: true };
}

function lastError(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean).filter((l) => !/stack trace/.test(l));
  return lines.find((l) => /^error execution phase/.test(l)) ?? lines.filter((l) => /error|fail|timed out/i.test(l)).pop() ?? lines.pop() ?? 'no output';
}
