import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

// The CNI as a cluster's network add-on brings it to a new worker: flannel's DaemonSet
// pod lands on the node once it is registered, and its install-cni init container copies
// the CNI config into /etc/cni/net.d (and the flannel plugin into /opt/cni/bin). Until then
// containerd reports NetworkReady=false ("cni plugin not initialized") and the kubelet
// keeps the Node NotReady. No pod can run in a test node (see the kubelet stand-in), so
// the harness plays install-cni: once the node is joined (kubelet.conf exists) it writes
// flannel's own 10-flannel.conflist. containerd loads it at once (it watches the
// directory) and reports NetworkReady=true; the plugin binaries are only needed to set
// up a pod's network, which nothing here does.
// 'none' is a cluster whose CNI never reaches the node (no add-on, or its pod failing).
export type CniMode = 'flannel' | 'none';

export const FLANNEL_CONFLIST_PATH = '/etc/cni/net.d/10-flannel.conflist';

// kube-flannel.yml's cni-conf.json, as install-cni writes it
export const FLANNEL_CONFLIST = `{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "flannel",
      "delegate": {
        "hairpinMode": true,
        "isDefaultGateway": true
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
`;

// Watches the node's root (a directory on this host) and installs the CNI config after
// each join; returns the function that stops watching.
export function installCniAfterJoin(root: string, mode: CniMode = 'flannel'): () => void {
  if (mode === 'none') return () => {};
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void installIfJoined(root).finally(() => (busy = false));
  }, 500);
  timer.unref();
  return () => clearInterval(timer);
}

async function installIfJoined(root: string): Promise<void> {
  const conf = path.join(root, FLANNEL_CONFLIST_PATH);
  if (!existsSync(path.join(root, 'etc/kubernetes/kubelet.conf')) || existsSync(conf)) return;
  await fs.mkdir(path.dirname(conf), { recursive: true });
  // written aside and renamed: containerd must never load half a file
  await fs.writeFile(`${conf}.tmp`, FLANNEL_CONFLIST);
  await fs.rename(`${conf}.tmp`, conf);
}
