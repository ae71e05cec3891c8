import { parseAllDocuments } from 'yaml';
import type { Files } from '../host/files.js';
import type { Proc } from '../host/proc.js';
import { inspectPatches, KUBELET_TARGET, readPatchDir } from './kubeadm-patches.js';
import { ETC_RESOLV_CONF, RESOLVED_CONF, type ResolvHost } from './resolv-conf.js';

// This host's resolver, read-only: whether systemd-resolved runs (kubeadm asks the init
// system the same question: initsystem ServiceIsActive) and the contents of the files a
// kubelet might be told to read (the two usual ones and any other named).
export async function readResolvHost(files: Files, proc: Proc, also: (string | undefined | null)[] = []): Promise<ResolvHost> {
  const active = (await proc.probe('systemctl', ['is-active', 'systemd-resolved'], { allowFailure: true })).stdout.trim() === 'active';
  const out: ResolvHost = { resolvedActive: active, files: {} };
  for (const p of new Set([ETC_RESOLV_CONF, RESOLVED_CONF, ...also.filter((x): x is string => typeof x === 'string' && x.startsWith('/'))])) {
    out.files[p] = await files.read(p).catch(() => null);
  }
  return out;
}

// resolvConf as the operator's own kubeletconfiguration patches set it (the last one kubeadm
// applies wins); undefined when none does. joinagent leaves such a node's choice alone.
export async function operatorResolvConf(files: Files, dir: string | undefined): Promise<string | undefined> {
  if (!dir) return undefined;
  const all = (await readPatchDir(files, dir)) ?? [];
  const { used } = inspectPatches(all);
  let value: string | undefined;
  for (const rel of used) {
    if (!rel.split('/').pop()!.startsWith(KUBELET_TARGET)) continue;
    for (const d of parseAllDocuments(all.find((f) => f.rel === rel)!.text) as Iterable<{ toJS(): unknown }>) {
      const p = d.toJS() as unknown;
      if (Array.isArray(p)) {
        for (const op of p as { op?: string; path?: string; value?: unknown }[]) if (op.path === '/resolvConf' && typeof op.value === 'string') value = op.value;
      } else if (p && typeof p === 'object' && typeof (p as { resolvConf?: unknown }).resolvConf === 'string') value = (p as { resolvConf: string }).resolvConf;
    }
  }
  return value;
}
