import { joinHostPort } from '../config/formats.js';
import type { NetError } from './https.js';

// Turns a network failure toward the API server into the one sentence and next action
// an operator needs (the runbook's troubleshooting appendix, case by case).
export function netDiagnosis(e: NetError, host: string, port: number): { message: string; hint: string; retryable: boolean } {
  const where = joinHostPort(host, port);
  switch (e.kind) {
    case 'dns':
      return { message: `cannot resolve "${host}": ${e.message}`, hint: `add it to host.hosts (kept in /etc/hosts) or fix DNS; or use the control plane's IP in apiServerEndpoint`, retryable: true };
    case 'refused':
      return {
        message: `connection to ${where} refused: nothing listens on port ${port} there, or a firewall rejects it`,
        hint: `on the control plane: \`ss -tlnp | grep ${port}\` (kube-apiserver up, listening on all addresses?) and \`systemctl is-active firewalld\` (the runbook's incident: firewalld came back after a re-provision)`,
        retryable: true,
      };
    case 'timeout':
      return {
        message: `connection to ${where} timed out: the port is filtered (packets dropped, no answer)`,
        hint: `check firewalld on the control plane (\`systemctl is-active firewalld\`; open ${port}/tcp or disable it) and any firewall between this node and ${host}; \`ping ${host}\` tells a dead host from a filtered port`,
        retryable: true,
      };
    case 'unreachable':
      return { message: `${where} is unreachable: ${e.message}`, hint: `\`ip route get ${host}\` and \`ip addr\`: this node has no route to the control plane (interface down, wrong subnet)`, retryable: true };
    case 'tls':
      return { message: `TLS handshake with ${where} failed: ${e.message}`, hint: `is ${where} a Kubernetes API server? something else may hold the port, or a proxy intercepts it`, retryable: true };
    case 'reset':
      return { message: `${where} reset the connection: ${e.message}`, hint: 'the API server may be restarting, or a middlebox drops TLS; retry, then check the control plane', retryable: true };
    case 'http':
      return { message: `${where}: ${e.message}`, hint: 'check the control plane (kube-apiserver logs)', retryable: true };
    case 'aborted':
      return { message: e.message, hint: 'joinagent is stopping', retryable: false };
  }
}
