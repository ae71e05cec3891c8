// The validated configuration as the rest of joinagent sees it (defaults applied).
import type { KubeletSettings } from './kubelet.js';

export type FirewallMode = 'disable' | 'open-ports' | 'leave';

export interface HostEntry {
  ip: string;
  names: string[];
}

export interface RepoOverride {
  /** As parsed (URL.href): never the raw string. */
  url?: string;
  /** An http(s) URL (parsed) or an absolute path. */
  key?: string;
  /** OpenPGP fingerprints (upper-case hex): every primary key of the keyring must be one. */
  keyFingerprints?: string[];
}

/** proxy: how the node reaches repositories and registries (see src/net/proxy.ts). */
export interface ProxyConfig {
  http?: string;
  https?: string;
  /** Destinations that bypass the proxy, on top of the ones joinagent always adds. */
  noProxy: string[];
  /** The cluster's pod and service CIDRs (kubeadm's podSubnet, serviceSubnet): never proxied. */
  clusterCIDRs: string[];
}

/** registries.<host>: TLS and credentials containerd uses for that registry host. */
export interface RegistrySettings {
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  username?: string;
  /** Resolved from password or passwordFile at load time; registered as a secret. */
  password?: string;
  passwordFile?: string;
  /** An identity (refresh) token, CRI's identitytoken; from token or tokenFile. */
  token?: string;
  tokenFile?: string;
  skipVerify: boolean;
}

export interface AgentConfig {
  kubernetesVersion: string;
  host: {
    timezone?: string;
    ntp: boolean;
    selinux: 'permissive' | 'leave';
    firewall: FirewallMode;
    /** Ports opened with firewall: open-ports (worker ports + the CNI's). */
    firewallPorts: string[];
    swap: 'disable' | 'leave';
    /** ms one apt run waits for the dpkg lock another package manager holds. */
    packageLockWait: number;
    hosts: HostEntry[];
  };
  containerd: {
    source: 'docker' | 'distro';
    version?: string;
    registryMirrors: Record<string, string[]>;
  };
  repositories: { kubernetes?: RepoOverride; docker?: RepoOverride };
  images: { repository: string; archives?: string };
  nodeIP: string;
  /** The cluster's pod and service ranges as kubeadm writes them (see networking.ts). */
  networking: { podSubnet?: string; serviceSubnet?: string };
  /** KubeletConfiguration settings handed to kubeadm as a patch (see kubelet.ts). */
  kubelet: KubeletSettings;
  join: {
    tokenFile?: string;
    resetOnFailure: boolean;
    sentinelFile?: string;
    /** ms */
    timeout: number;
    /** ms the node-ready step waits for the Node to turn Ready (0 = check once). */
    waitForReady: number;
    /** A NotReady Node of this name (a reinstall): refuse until it is deleted, or join under it. */
    existingNode?: 'refuse' | 'adopt';
  };
  status: { address: string };
  reconcile: { interval: number; mode: 'repair' | 'report' };
  /** In-place upgrades (src/upgrade): an optional kubeconfig allowed to cordon, drain and
   *  uncordon this node; ms for the drain and for the upgraded Node to turn Ready. */
  upgrade: { drainKubeconfig?: string; drainTimeout: number; waitForReady: number };
  /** Set by the agent, never read from the file: an upgrade from -> to is under way, so
   *  the kube packages and their repository belong to the upgrade step (node-version.ts). */
  upgrading?: { from: string; to: string };
  /** Absent = no proxy: every destination is reached directly. */
  proxy?: ProxyConfig;
  registries: Record<string, RegistrySettings>;
}

export interface KubeletArg {
  name: string;
  value: string;
}

// The kubeadm JoinConfiguration, kept as written (so we hand kubeadm what the user
// wrote) plus the few fields joinagent reads, normalised across v1beta3/v1beta4.
export interface JoinDocument {
  apiVersion: 'kubeadm.k8s.io/v1beta4' | 'kubeadm.k8s.io/v1beta3';
  raw: Record<string, unknown>;
  /** kubeadm's two discovery methods; absent = bootstrap token (older callers). */
  discovery?: { kind: 'token' } | { kind: 'file'; kubeConfigPath: string };
  /** host:port; for file discovery the kubeconfig's server ("" when it is an https:// URL). */
  apiServerEndpoint: string;
  caCertHashes: string[];
  unsafeSkipCAVerification: boolean;
  criSocket: string;
  nodeName?: string;
  /** patches.directory as written (kubeadm's patches). */
  patchesDir?: string;
  kubeletExtraArgs: KubeletArg[];
}

export type TokenSource = 'inline' | 'file' | 'credential' | 'none';

export interface LoadedConfig {
  file: string;
  agent: AgentConfig;
  join: JoinDocument;
  /** The bootstrap token; registered with redact() the moment it is read. */
  token?: string;
  tokenSource: TokenSource;
  tokenPath?: string;
}
