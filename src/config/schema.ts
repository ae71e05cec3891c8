import * as f from './formats.js';
import { kubeletSpec } from './kubelet.js';
import { checkSubnets } from './networking.js';
import type { Spec } from './walk.js';

const str = (check?: (v: string) => string | undefined): Spec => ({ t: 'string', check });
const en = (...values: string[]): Spec => ({ t: 'string', enum: values });
const bool: Spec = { t: 'bool' };
const strList = (check?: (v: string) => string | undefined): Spec => ({ t: 'array', items: str(check) });
const repo: Spec = { t: 'object', fields: { url: str(f.checkRepoUrl), key: str(f.checkUrlOrPath), keyFingerprints: strList(f.checkFingerprint) } };

// The worker ports kubelet and kube-proxy need plus Flannel's VXLAN port (the runbook's
// CNI); override host.firewallPorts for another CNI (Calico BGP 179/tcp, etc.).
export const DEFAULT_FIREWALL_PORTS = ['10250/tcp', '10256/tcp', '30000-32767/tcp', '30000-32767/udp', '8472/udp'];

export const agentSpec: Spec = {
  t: 'object',
  required: ['apiVersion', 'kind', 'kubernetesVersion'],
  fields: {
    apiVersion: en('joinagent.io/v1alpha1'),
    kind: en('AgentConfiguration'),
    kubernetesVersion: str(f.checkVersion),
    host: {
      t: 'object',
      fields: {
        timezone: str(f.checkTimezone),
        ntp: bool,
        selinux: en('permissive', 'leave'),
        firewall: en('disable', 'open-ports', 'leave'),
        firewallPorts: strList(f.checkPortSpec),
        swap: en('disable', 'leave'),
        packageLockWait: str(f.checkDuration),
        hosts: {
          t: 'array',
          items: { t: 'object', required: ['ip', 'names'], fields: { ip: str(f.checkIP), names: strList(f.checkHostname) } },
        },
      },
    },
    containerd: {
      t: 'object',
      fields: {
        source: en('docker', 'distro'),
        version: str(f.checkPackageVersion),
        registryMirrors: { t: 'map', key: f.checkRegistryHost, values: strList(f.checkUrl) },
      },
    },
    repositories: { t: 'object', fields: { kubernetes: repo, docker: repo } },
    images: { t: 'object', fields: { repository: str(f.checkImageRepository), archives: str(f.checkAbsPath) } },
    nodeIP: str(f.checkNodeIP),
    kubelet: kubeletSpec,
    networking: { t: 'object', fields: { podSubnet: str((v) => checkSubnets(v, 'pod')), serviceSubnet: str((v) => checkSubnets(v, 'service')) } },
    join: {
      t: 'object',
      fields: {
        tokenFile: str(f.checkAbsPath),
        resetOnFailure: bool,
        sentinelFile: str(f.checkAbsPath),
        timeout: str(f.checkDuration),
        waitForReady: str(f.checkDuration),
        existingNode: en('refuse', 'adopt'),
      },
    },
    status: { t: 'object', fields: { address: str(f.checkHostPort) } },
    reconcile: { t: 'object', fields: { interval: str(f.checkDuration), mode: en('repair', 'report') } },
    upgrade: { t: 'object', fields: { drainKubeconfig: str(f.checkAbsPath), drainTimeout: str(f.checkDuration), waitForReady: str(f.checkDuration) } },
    proxy: {
      t: 'object',
      fields: { http: str(f.checkProxyUrl), https: str(f.checkProxyUrl), noProxy: strList(f.checkNoProxyEntry), clusterCIDRs: strList(f.checkCidr) },
    },
    registries: {
      t: 'map',
      key: f.checkRegistryHost,
      values: {
        t: 'object',
        fields: {
          ca: str(f.checkAbsPath),
          clientCert: str(f.checkAbsPath),
          clientKey: str(f.checkAbsPath),
          username: str(),
          // never echoed: no check that could quote the value
          password: str(),
          passwordFile: str(f.checkAbsPath),
          token: str(),
          tokenFile: str(f.checkAbsPath),
          skipVerify: bool,
        },
      },
    },
  },
};

const taint: Spec = {
  t: 'object',
  required: ['key', 'effect'],
  fields: { key: str(), value: str(), effect: en('NoSchedule', 'PreferNoSchedule', 'NoExecute'), timeAdded: str() },
};

// kubeadm's JoinConfiguration (v1beta4, and v1beta3 whose kubeletExtraArgs is a map and
// which has no `timeouts`). Only a worker join is in scope: controlPlane is refused.
export function joinSpec(version: 'v1beta3' | 'v1beta4'): Spec {
  const extraArgs: Spec =
    version === 'v1beta4'
      ? { t: 'array', items: { t: 'object', required: ['name', 'value'], fields: { name: str(f.checkFlagName), value: str() } } }
      : { t: 'map', key: f.checkFlagName, values: str() };
  const discoveryFields: Record<string, Spec> = {
    bootstrapToken: {
      t: 'object',
      required: ['apiServerEndpoint'],
      fields: {
        token: str(f.checkToken),
        apiServerEndpoint: str(f.checkHostPort),
        caCertHashes: strList(f.checkCaHash),
        unsafeSkipCAVerification: bool,
      },
    },
    file: { t: 'object', required: ['kubeConfigPath'], fields: { kubeConfigPath: str(f.checkKubeConfigPath) } },
    tlsBootstrapToken: str(f.checkToken),
  };
  if (version === 'v1beta3') discoveryFields.timeout = str(f.checkDuration);
  const fields: Record<string, Spec> = {
    apiVersion: en('kubeadm.k8s.io/v1beta4', 'kubeadm.k8s.io/v1beta3'),
    kind: en('JoinConfiguration'),
    caCertPath: str(f.checkAbsPath),
    // exactly one of bootstrapToken and file: checked in load.ts with kubeadm's words
    discovery: { t: 'object', fields: discoveryFields },
    nodeRegistration: {
      t: 'object',
      fields: {
        name: str(f.checkHostname),
        criSocket: str((v) => (/^(unix|npipe):\/\//.test(v) ? undefined : `"${v}" is not a socket URL (unix:///run/containerd/containerd.sock)`)),
        taints: { t: 'array', items: taint },
        kubeletExtraArgs: extraArgs,
        ignorePreflightErrors: strList(),
        imagePullPolicy: en('Always', 'IfNotPresent', 'Never'),
        ...(version === 'v1beta4' ? { imagePullSerial: bool } : {}),
      },
    },
    skipPhases: strList(),
    patches: { t: 'object', fields: { directory: str(f.checkAbsPath) } },
  };
  if (version === 'v1beta4') {
    fields.dryRun = bool;
    fields.timeouts = {
      t: 'object',
      fields: Object.fromEntries(
        ['controlPlaneComponentHealthCheck', 'kubeletHealthCheck', 'kubernetesAPICall', 'etcdAPICall', 'tlsBootstrap', 'discovery', 'upgradeManifests'].map((k) => [k, str(f.checkDuration)]),
      ),
    };
  }
  return {
    t: 'object',
    required: ['apiVersion', 'kind', 'discovery'],
    fields,
    reject: { controlPlane: 'joinagent joins workers only: remove "controlPlane" (join control-plane nodes with kubeadm directly)' },
  };
}
