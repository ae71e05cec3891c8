import { hostFiles, type Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { pinMatches, pinsOf } from './capin.js';

// What an earlier `kubeadm join` left on this host, read-only.
export interface LocalJoinState {
  kubeletConf: boolean;
  /** Files of a join that did not get as far as kubelet.conf. */
  leftovers: string[];
  /** Pins of /etc/kubernetes/pki/ca.crt (the CA kubeadm copied from cluster-info). */
  caPins: string[];
}

const LEFTOVERS = [paths.kubeCaCert, paths.bootstrapKubeletConf, paths.kubeletConfig, paths.kubeadmFlags, paths.kubeletClientCert];

export async function inspectLocal(files: Files): Promise<LocalJoinState> {
  const kubeletConf = await files.exists(paths.kubeletConf);
  const leftovers: string[] = [];
  for (const p of LEFTOVERS) if (await files.exists(p)) leftovers.push(p);
  let caPins: string[] = [];
  const ca = await files.readBytes(paths.kubeCaCert);
  if (ca) {
    try {
      caPins = pinsOf(ca, paths.kubeCaCert);
    } catch {
      caPins = [];
    }
  }
  return { kubeletConf, leftovers, caPins };
}

export type JoinVerdict = { state: 'fresh' } | { state: 'joined'; pin?: string } | { state: 'other-cluster'; pins: string[] } | { state: 'half'; leftovers: string[] };

// Pure: is this host joined to the cluster we are configured for? `expected` = the
// configured caCertHashes plus the pin discovery saw; empty = nothing to compare.
export function joinVerdict(local: LocalJoinState, expected: string[]): JoinVerdict {
  if (local.kubeletConf) {
    if (expected.length === 0) return { state: 'joined', pin: local.caPins[0] };
    const pin = pinMatches(local.caPins, expected);
    return pin ? { state: 'joined', pin } : { state: 'other-cluster', pins: local.caPins };
  }
  return local.leftovers.length ? { state: 'half', leftovers: local.leftovers } : { state: 'fresh' };
}

// Before the config is loaded: is there a kubelet.conf under this root?
export function joinedOnDisk(root: string): Promise<boolean> {
  return hostFiles(root, true).exists(paths.kubeletConf);
}
