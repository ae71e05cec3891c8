import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseDocument, isMap, isSeq, type Document } from 'yaml';
import { repoRoot } from './paths.js';

export interface SeedInput {
  config: string;
  token: string;
  /** where the node downloads the binary from (the harness serves dist/joinagent) */
  binaryUrl: string;
  /** the binary served there: its sha256 replaces the example's placeholder */
  binaryPath: string;
}

export const USER_DATA_EXAMPLE = path.join(repoRoot, 'packaging/cloud-init/user-data.yaml');

// The user-data a real operator starts from (packaging/cloud-init/user-data.yaml: write
// the config and token, download the binary, check its sha256, `install --now`), with
// only the lines the example marks EDIT replaced by the scenario's values.
export async function userDataFromExample(s: SeedInput): Promise<string> {
  const text = await fs.readFile(USER_DATA_EXAMPLE, 'utf8');
  if (!text.startsWith('#cloud-config\n')) throw new Error(`${USER_DATA_EXAMPLE}: does not start with #cloud-config`);
  const doc = parseDocument(text);
  const sum = createHash('sha256').update(await fs.readFile(s.binaryPath)).digest('hex');
  substituteFiles(doc, s);
  substituteDownload(doc, s.binaryUrl, sum);
  // the example's own first line (#cloud-config) is kept as the document's comment
  return doc.toString();
}

// write_files: the config and the token keep the example's path, owner and mode.
function substituteFiles(doc: Document, s: SeedInput): void {
  const wf = doc.get('write_files');
  const seen: string[] = [];
  if (isSeq(wf)) {
    for (const item of wf.items) {
      if (!isMap(item)) continue;
      const p = String(item.get('path') ?? '');
      if (p === '/etc/joinagent/config.yaml') item.set('content', s.config);
      else if (p === '/etc/joinagent/token') item.set('content', `${s.token}\n`);
      else continue;
      seen.push(p);
    }
  }
  if (seen.length !== 2) throw new Error(`${USER_DATA_EXAMPLE}: expected write_files for /etc/joinagent/config.yaml and /etc/joinagent/token, found ${seen.join(', ') || 'neither'}`);
}

// runcmd's download script: its `url=` and `sum=` assignments point at the harness.
function substituteDownload(doc: Document, url: string, sum: string): void {
  const runcmd = doc.get('runcmd');
  let replaced = 0;
  if (isSeq(runcmd)) {
    for (const cmd of runcmd.items) {
      if (!isSeq(cmd)) continue;
      cmd.items.forEach((part, i) => {
        const v = String((part as { value?: unknown }).value ?? '');
        if (!/^url=/m.test(v) || !/^sum=/m.test(v)) return;
        cmd.set(i, v.replace(/^url=.*$/m, `url=${url}`).replace(/^sum=.*$/m, `sum=${sum}`));
        replaced++;
      });
    }
  }
  if (replaced !== 1) throw new Error(`${USER_DATA_EXAMPLE}: expected one runcmd script with url= and sum= lines, found ${replaced}`);
}

export function metaData(hostname: string): string {
  return `instance-id: iid-${hostname}\nlocal-hostname: ${hostname}\n`;
}
