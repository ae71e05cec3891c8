import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { parseDocument, isMap, isSeq, type Document } from 'yaml';
import { repoRoot } from './paths.js';

export interface SeedInput {
  config: string;
  token: string;
  /** where the node downloads the binary from (the harness serves dist/joinagent) */
  binaryUrl: string;
  hostname: string;
}

const EXAMPLES = path.join(repoRoot, 'packaging/cloud-init');

// The user-data a real operator would start from: the packaging example that installs
// and joins (not the golden-image one), with the scenario's config, token and binary URL.
export async function userDataFromExample(s: SeedInput): Promise<string> {
  if (!existsSync(EXAMPLES)) throw new Error('packaging/cloud-init/ (daemon branch) has not landed: no user-data example to seed');
  const files = (await fs.readdir(EXAMPLES)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const texts = await Promise.all(files.map((f) => fs.readFile(path.join(EXAMPLES, f), 'utf8')));
  const i = texts.findIndex((t) => /install\s+--now/.test(t) && /write_files/.test(t) && !/joinagent\s+prepare/.test(t));
  if (i < 0) throw new Error(`no example in packaging/cloud-init/ (${files.join(', ')}) writes files and runs 'joinagent install --now'`);
  const doc = parseDocument(texts[i]!);
  substitute(doc, s);
  return `#cloud-config\n${doc.toString()}`;
}

// Replaces the example's config and token contents and points any download of the
// binary at the harness; everything else (modes, runcmd) stays as the example wrote it.
function substitute(doc: Document, s: SeedInput): void {
  const wf = doc.get('write_files');
  if (isSeq(wf)) {
    for (const item of wf.items) {
      if (!isMap(item)) continue;
      const p = String(item.get('path') ?? '');
      if (/config\.ya?ml$/.test(p)) item.set('content', s.config);
      else if (/token$/.test(p)) item.set('content', `${s.token}\n`);
    }
  }
  const text = doc.toString().replace(/https?:\/\/[^\s'"]*joinagent[^\s'"]*(?=[\s'"])/g, (m) => (/\.(ya?ml|asc|sha256)$/.test(m) ? m : s.binaryUrl));
  const fresh = parseDocument(text);
  doc.contents = fresh.contents;
}

export function metaData(hostname: string): string {
  return `instance-id: iid-${hostname}\nlocal-hostname: ${hostname}\n`;
}
