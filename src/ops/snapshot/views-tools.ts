import type { Proc, RunResult } from '../../host/proc.js';
import { paths } from '../../host/paths.js';
import { missingView, okView, type View } from './types.js';

const TIMEOUT = { allowFailure: true, timeoutMs: 20_000 };
// a stale socket nobody listens on must cost seconds, not ctr's default dial wait
const CTR = ['--connect-timeout', '3s', '--timeout', '15s', '-n', 'k8s.io'];
const CRI = ['--timeout=3s', `--runtime-endpoint=unix://${paths.containerdSocket}`, `--image-endpoint=unix://${paths.containerdSocket}`];

// Images and containers only exist behind containerd's API, so these views need a tool:
// crictl when installed (it names containers: kube-proxy, kube-flannel), else ctr. When
// containerd does not answer for images, containers are not asked again (each try waits).
export async function runtimeViews(proc: Proc, socketPresent: boolean): Promise<{ images: View; containers: View }> {
  if (!socketPresent) {
    // before a first join containerd often is not even installed: no images, truthfully
    const v = missingView(`containerd is not running (no ${paths.containerdSocket})`, true);
    return { images: v, containers: v };
  }
  const images = await imagesView(proc);
  if (images.status === 'missing') return { images, containers: images };
  return { images, containers: await containersView(proc) };
}

export async function imagesView(proc: Proc): Promise<View> {
  const cri = await proc.probe('crictl', [...CRI, 'images', '-o', 'json'], TIMEOUT);
  if (cri.exitCode === 0) {
    const items: Record<string, string> = {};
    for (const img of (parseJson(cri.stdout) as { images?: { id: string; repoTags?: string[]; repoDigests?: string[] }[] }).images ?? []) {
      for (const tag of img.repoTags?.length ? img.repoTags : (img.repoDigests ?? [img.id])) items[tag] = img.id.replace(/^sha256:/, '').slice(0, 12);
    }
    return okView('crictl images', items);
  }
  const ctr = await proc.probe('ctr', [...CTR, 'images', 'ls', '-q'], TIMEOUT);
  if (ctr.exitCode === 0) return okView('ctr -n k8s.io images ls -q', Object.fromEntries(lines(ctr.stdout).map((l) => [l, 'image'])));
  return missingView(whyMissing(cri, ctr));
}

export async function containersView(proc: Proc): Promise<View> {
  const cri = await proc.probe('crictl', [...CRI, 'ps', '-a', '-o', 'json'], TIMEOUT);
  if (cri.exitCode === 0) {
    const items: Record<string, string> = {};
    type C = { metadata?: { name?: string; attempt?: number }; image?: { image?: string }; imageRef?: string; state?: string; labels?: Record<string, string> };
    for (const c of (parseJson(cri.stdout) as { containers?: C[] }).containers ?? []) {
      const pod = c.labels?.['io.kubernetes.pod.namespace'] ? `${c.labels['io.kubernetes.pod.namespace']}/${c.labels['io.kubernetes.pod.name'] ?? '?'} ` : '';
      items[`${pod}${c.metadata?.name ?? '?'}`] = `${(c.state ?? '').replace(/^CONTAINER_/, '').toLowerCase()} ${c.image?.image ?? c.imageRef ?? ''}`.trim();
    }
    return okView('crictl ps -a', items);
  }
  // ctr has no container names: count containers per image (pause x3, kube-proxy x1 ...)
  const ctr = await proc.probe('ctr', [...CTR, 'containers', 'ls'], TIMEOUT);
  if (ctr.exitCode === 0) {
    const items: Record<string, string> = {};
    for (const l of lines(ctr.stdout).slice(1)) {
      const image = l.split(/\s+/)[1] ?? '?';
      items[image] = `${Number((items[image] ?? '0').split(' ')[0]) + 1} container(s)`;
    }
    return okView('ctr -n k8s.io containers ls', items);
  }
  return missingView(whyMissing(cri, ctr));
}

// `ip -j addr`: per interface its state, MTU and MAC, per address its scope; the
// lifetimes and interface indexes it also prints are left out (noise).
export async function addressesFromIp(proc: Proc): Promise<View | undefined> {
  const r = await proc.probe('ip', ['-j', 'addr'], TIMEOUT);
  if (r.exitCode !== 0) return undefined;
  type A = { family: string; local: string; prefixlen: number; scope?: string };
  type L = { ifname: string; operstate?: string; mtu?: number; address?: string; link_type?: string; addr_info?: A[] };
  const items: Record<string, string> = {};
  const links = parseJson(r.stdout);
  for (const l of Array.isArray(links) ? (links as L[]) : []) {
    items[l.ifname] = `${l.link_type ?? '?'} ${l.operstate ?? '?'} mtu ${l.mtu ?? '?'} ${l.address ?? ''}`.trim();
    for (const a of l.addr_info ?? []) items[`${l.ifname} ${a.family} ${a.local}/${a.prefixlen}`] = `scope ${a.scope ?? '?'}`;
  }
  return okView('ip -j addr', items);
}

function whyMissing(...rs: RunResult[]): string {
  const why = (r: RunResult): string => {
    const tool = r.command.split(' ')[0];
    if (r.notFound) return `${tool}: not installed`;
    const last = (r.stderr.trim() || `exit ${r.exitCode}`).split('\n').pop()!.replace(/^(ctr|crictl): /, '');
    return `${tool}: ${last.length > 120 ? `${last.slice(0, 117)}...` : last}`;
  };
  return rs.map(why).join('; ');
}

function lines(s: string): string[] {
  return s.split('\n').map((l) => l.trim()).filter(Boolean);
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return {};
  }
}
