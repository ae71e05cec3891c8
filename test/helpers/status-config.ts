// The smallest agent config that serves /status: loopback port, a join to an API server
// address where nothing listens (so the run fails early, a state /status must explain).
// Shared by the status tests and the bench; each caller picks its own ports.
export function statusConfigYaml(o: { port: number; apiServer: string; token?: string; discovery?: 'unsafe' | { caCertHash: string } }): string {
  const pin = o.discovery && o.discovery !== 'unsafe' ? `caCertHashes: [${o.discovery.caCertHash}]` : 'unsafeSkipCAVerification: true';
  return `apiVersion: joinagent.io/v1alpha1
kind: AgentConfiguration
kubernetesVersion: v1.32.11
status: { address: 127.0.0.1:${o.port} }
reconcile: { interval: 1h }
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery: { bootstrapToken: { token: ${o.token ?? 'abcdef.0123456789abcdef'}, apiServerEndpoint: "${o.apiServer}", ${pin} } }
`;
}
