import { parseAllDocuments, stringify } from 'yaml';
import type { KubeletSettings } from '../config/kubelet.js';
import type { Files } from '../host/files.js';

// kubeadm's patches directory (JoinConfiguration patches.directory), as kubeadm v1.32
// reads it (cmd/kubeadm/app/util/patches): every file under the directory, sub-
// directories included (filepath.Walk, in lexical order), named
// TARGET[SUFFIX][+PATCHTYPE].EXTENSION with TARGET one of its known targets, PATCHTYPE
// strategic (the default), merge or json, EXTENSION json or yaml. A file with another
// extension or target is ignored; an unknown patch type after '+' fails the join; an
// empty file is ignored; a file may hold several patches separated by '---'. On a
// worker join only the kubeletconfiguration target is used (kubelet-start phase).
export const PATCH_TARGETS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubeletconfiguration', 'corednsdeployment'];
export const KUBELET_TARGET = 'kubeletconfiguration';
export type PatchType = 'strategic' | 'merge' | 'json';

export interface PatchFile {
  /** Path relative to the directory. */
  rel: string;
  text: string;
}

export type FileVerdict =
  | { kind: 'patch'; target: string; type: PatchType }
  | { kind: 'ignored'; reason: string }
  | { kind: 'error'; reason: string };

export function parsePatchFileName(base: string): FileVerdict {
  if (!/.+\.(json|yaml)$/.test(base)) return { kind: 'ignored', reason: 'the file extension must be one of [json yaml] (kubeadm ignores it)' };
  const m = new RegExp(`^(${PATCH_TARGETS.join('|')})([^.+\\n]*)?(\\+)?(json|merge|strategic)?`).exec(base);
  if (!m) return { kind: 'ignored', reason: `unknown target, must be one of [${PATCH_TARGETS.join(' ')}] (kubeadm ignores it)` };
  if (m[3] && !m[4]) return { kind: 'error', reason: "unknown or missing patch type after '+', must be one of [json merge strategic] (kubeadm fails the join)" };
  return { kind: 'patch', target: m[1], type: (m[4] as PatchType | undefined) ?? 'strategic' };
}

// joinagent's own patch, named to read as what it is; kubeadm orders it among the
// operator's files by name, and validation refuses a key set by both.
export const JOINAGENT_PATCH = 'kubeletconfiguration-joinagent+merge.yaml';

// The `kubelet:` section as a merge patch of KubeletConfiguration (pure).
export function renderKubeletPatch(k: KubeletSettings, source: string): string {
  return `# Written by joinagent from kubelet: in ${source}; kubeadm applies it to /var/lib/kubelet/config.yaml.\n` + stringify(k, { lineWidth: 0, sortMapEntries: true });
}

export interface PatchProblem {
  rel: string;
  message: string;
  severity: 'error' | 'warning';
}

// What kubeadm would make of each file, as problems; `keys` = top-level
// KubeletConfiguration fields each kubeletconfiguration patch sets.
export function inspectPatches(files: PatchFile[]): { problems: PatchProblem[]; used: string[]; keys: Map<string, string[]> } {
  const problems: PatchProblem[] = [];
  const used: string[] = [];
  const keys = new Map<string, string[]>();
  for (const f of [...files].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))) {
    const v = parsePatchFileName(f.rel.split('/').pop()!);
    if (v.kind === 'error') problems.push({ rel: f.rel, message: v.reason, severity: 'error' });
    if (v.kind === 'ignored') problems.push({ rel: f.rel, message: v.reason, severity: 'warning' });
    if (v.kind !== 'patch') continue;
    if (v.target !== KUBELET_TARGET) {
      problems.push({ rel: f.rel, message: `a ${v.target} patch: a worker join does not use it (only ${KUBELET_TARGET})`, severity: 'warning' });
      continue;
    }
    if (f.text.length === 0) {
      problems.push({ rel: f.rel, message: 'empty: kubeadm ignores it', severity: 'warning' });
      continue;
    }
    const docs = parseAllDocuments(f.text);
    const bad = (Array.isArray(docs) ? docs : []).flatMap((d) => d.errors);
    if (!Array.isArray(docs) || bad.length) {
      problems.push({ rel: f.rel, message: `not YAML/JSON: ${bad[0]?.message.split('\n')[0] ?? 'unreadable'} (kubeadm fails the join)`, severity: 'error' });
      continue;
    }
    const set: string[] = [];
    let failed = false;
    for (const d of docs) {
      const p = d.toJS() as unknown;
      if (p === null || p === undefined) continue;
      if (v.type === 'json') {
        const ops = Array.isArray(p) ? (p as { op?: unknown; path?: unknown }[]) : undefined;
        if (!ops || ops.some((o) => typeof o?.op !== 'string' || typeof o.path !== 'string')) {
          problems.push({ rel: f.rel, message: 'a json patch is a list of operations ({op, path, value}) (RFC 6902; kubeadm fails the join)', severity: 'error' });
          failed = true;
          continue;
        }
        for (const o of ops) set.push(String(o.path).split('/')[1] ?? '');
      } else if (typeof p === 'object' && !Array.isArray(p)) {
        set.push(...Object.keys(p as object));
      } else {
        problems.push({ rel: f.rel, message: `a ${v.type} patch is a mapping of KubeletConfiguration fields (kubeadm fails the join)`, severity: 'error' });
        failed = true;
      }
    }
    if (failed) continue;
    keys.set(f.rel, set);
    used.push(f.rel);
  }
  return { problems, used, keys };
}

// A key the kubelet: section sets and a patch file sets too: which one wins would depend
// on file names, so it is refused.
export function overlaps(k: KubeletSettings, keys: Map<string, string[]>): { rel: string; key: string }[] {
  const ours = new Set(Object.keys(k));
  const out: { rel: string; key: string }[] = [];
  for (const [rel, set] of keys) for (const key of set) if (ours.has(key)) out.push({ rel, key });
  return out;
}

// Every regular file under dir, as filepath.Walk finds them; null when dir is no directory.
export async function readPatchDir(files: Files, dir: string): Promise<PatchFile[] | null> {
  const st = await files.stat(dir);
  if (!st?.isDir) return null;
  const out: PatchFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of (await files.listTyped(rel ? `${dir}/${rel}` : dir)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.type === 'dir') await walk(r);
      else if (e.type === 'file') out.push({ rel: r, text: (await files.read(`${dir}/${r}`)) ?? '' });
    }
  };
  await walk('');
  return out;
}
