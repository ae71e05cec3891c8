import path from 'node:path';
import type { Files } from '../../host/files.js';
import { okView, type View } from './types.js';
import { crypto } from '../../host/crypto.js';

const HASH_LIMIT = 256 * 1024;
const MAX_ENTRIES = 5000;

// `tree DIR -L depth` as data: type, mode, size and a content hash for small files, so
// a diff shows new and rewritten files but never mtimes. An absent tree is an empty view.
export async function treeView(files: Files, root: string, depth: number): Promise<View> {
  const items: Record<string, string> = {};
  let truncated = false;
  const walk = async (dir: string, level: number): Promise<void> => {
    for (const name of await files.list(dir)) {
      if (Object.keys(items).length >= MAX_ENTRIES) {
        truncated = true;
        return;
      }
      const p = path.posix.join(dir, name);
      const st = await files.lstat(p).catch(() => null);
      if (!st) continue;
      items[p] = await describeEntry(files, p, st);
      if (st.type === 'dir' && level < depth) await walk(p, level + 1);
    }
  };
  const top = await files.lstat(root).catch(() => null);
  if (top?.type === 'dir') {
    items[root] = await describeEntry(files, root, top);
    await walk(root, 1);
  }
  return okView(`tree ${root} -L ${depth}`, items, { truncated });
}

async function describeEntry(files: Files, p: string, st: { type: string; mode: number; size: number }): Promise<string> {
  const mode = st.mode.toString(8).padStart(4, '0');
  if (st.type === 'link') return `link -> ${(await files.readlink(p)) ?? '?'}`;
  if (st.type === 'dir') return `dir ${mode}`;
  if (st.type !== 'file') return `${st.type} ${mode}`;
  let hash = '';
  if (st.size <= HASH_LIMIT) {
    const b = await files.readBytes(p).catch(() => null);
    if (b) hash = ` sha256:${crypto().createHash('sha256').update(b).digest('hex').slice(0, 16)}`;
  }
  return `file ${mode} ${st.size} bytes${hash}`;
}

// The kubelet's environment files (KUBELET_EXTRA_ARGS, KUBELET_KUBEADM_ARGS): one item
// per variable, so a diff shows exactly which flag kubeadm added.
export async function kubeletEnvView(files: Files, envFiles: readonly string[]): Promise<View> {
  const items: Record<string, string> = {};
  for (const f of envFiles) {
    const text = await files.read(f).catch(() => null);
    if (text === null) continue;
    const vars = parseEnvFile(text);
    if (Object.keys(vars).length === 0) items[f] = '(no variables)';
    for (const [k, v] of Object.entries(vars)) items[`${f} ${k}`] = v;
  }
  return okView(envFiles.join(', '), items);
}

// Shell-style KEY=value lines, quotes removed; comments and other lines ignored.
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}
