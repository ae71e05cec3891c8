import path from 'node:path';
import type { Files } from '../host/files.js';
import { paths } from '../host/paths.js';
import { requestHonouringRetryAfter } from './retry-after.js';
import { parseKubeconfig, serverHostPort } from './kubeconfig.js';

// A GET to the API server as the kubelet itself: the server, CA and client certificate
// come from kubelet.conf (inline data or file paths), so every answer also proves the
// kubelet's credentials work, not just that a file exists.
export async function kubeletGet(files: Files, urlPath: string, signal?: AbortSignal): Promise<{ status: number; body: string; retries: number }> {
  const text = await files.read(paths.kubeletConf);
  if (text === null) throw new Error(`${paths.kubeletConf} does not exist: the node is not joined`);
  const kc = parseKubeconfig(text, paths.kubeletConf);
  const read = async (data: string | undefined, file: string | undefined, what: string): Promise<string> => {
    if (data) return data;
    if (!file) throw new Error(`${paths.kubeletConf} has no ${what}`);
    // a relative path in a kubeconfig is relative to the kubeconfig's own directory (client-go)
    const v = await files.read(path.posix.resolve(path.posix.dirname(paths.kubeletConf), file));
    if (v === null) throw new Error(`${paths.kubeletConf} names ${file} as ${what}, but it does not exist`);
    return v;
  };
  const ca = await read(kc.caPem, kc.caFile ?? paths.kubeCaCert, 'CA certificate');
  const cert = await read(kc.clientCertPem, kc.clientCertFile, 'client certificate');
  const key = await read(kc.clientKeyPem, kc.clientKeyFile, 'client key');
  const { host, port } = serverHostPort(kc.server);
  // a Node object with a long image list runs to a few hundred KiB
  return requestHonouringRetryAfter({ host, port, path: urlPath, ca, cert, key, signal, maxBodyBytes: 4 << 20 }, { signal });
}
