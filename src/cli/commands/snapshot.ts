import { print } from '../output.js';
import path from 'node:path';
import type { Command } from 'commander';
import { hostFiles } from '../../host/files.js';
import { paths } from '../../host/paths.js';
import { hostProc } from '../../host/proc.js';
import { captureSnapshot, parseSnapshot, serializeSnapshot } from '../../ops/snapshot/capture.js';
import { countChanges, diffSnapshots } from '../../ops/diff/diff.js';
import { renderDiff } from '../../ops/diff/render.js';
import type { Snapshot } from '../../ops/snapshot/types.js';
import { CliExit, EXIT } from '../exit.js';
import { globals } from '../globals.js';

// snapshot and diff: the runbook's before/after comparison (section 6) as two commands.
export function registerSnapshot(program: Command): void {
  program
    .command('snapshot')
    .description('save the host views a join changes (images, containers, kubelet files, processes, sockets, mounts, sysctls ...) to one JSON file')
    .option('--out <file>', `where to write it ('-' = stdout; default ${paths.snapshotDir}/snapshot-TIME.json)`)
    .option('--label <name>', 'a name shown by diff', 'snapshot')
    .action(async (o: { out?: string; label: string }, cmd: Command) => {
      const g = globals(cmd);
      // read-only host access: a snapshot must never change what it observes
      const snap = await captureSnapshot(hostFiles(g.root, true), hostProc(true), { label: o.label });
      const text = serializeSnapshot(snap);
      if (o.out === '-') return void print(text);
      const target = o.out ? await writeOperatorFile(o.out, text) : await writeDefault(g.root, text, snap.takenAt);
      const missing = Object.entries(snap.views).filter(([, v]) => v.status === 'missing');
      print(`snapshot: ${target} (${Object.keys(snap.views).length - missing.length} views${missing.length ? `; missing: ${missing.map(([n]) => n).join(', ')}` : ''})\n`);
    });
  program
    .command('diff')
    .description("compare two snapshots; no files = the agent's own before/after pair, one file = that file against now")
    .argument('[a]', 'the earlier snapshot file')
    .argument('[b]', 'the later snapshot file')
    .option('--json', 'machine-readable output')
    .action(async (a: string | undefined, b: string | undefined, o: { json?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const [sa, sb, names] = await loadPair(g.root, a, b);
      const d = diffSnapshots(sa, sb);
      print(o.json ? JSON.stringify({ ...d, differences: countChanges(d) }, null, 2) + '\n' : renderDiff(d, names));
    });
}

async function loadPair(root: string, a?: string, b?: string): Promise<[Snapshot, Snapshot, { a: string; b: string }]> {
  if (a === undefined) {
    const files = hostFiles(root, true);
    const [ta, tb] = [await files.read(paths.snapshotBefore), await files.read(paths.snapshotAfter)];
    if (ta === null || tb === null) {
      throw new CliExit(EXIT.failed, `joinagent diff: the agent has no before/after snapshots yet (${ta === null ? paths.snapshotBefore : paths.snapshotAfter} is missing): they are taken by 'joinagent run' when it changes something; or pass two files from 'joinagent snapshot'`);
    }
    return [parseOrExit(ta, paths.snapshotBefore), parseOrExit(tb, paths.snapshotAfter), { a: paths.snapshotBefore, b: paths.snapshotAfter }];
  }
  const sa = parseOrExit(await readOperatorFile(a), a);
  if (b !== undefined) return [sa, parseOrExit(await readOperatorFile(b), b), { a, b }];
  return [sa, await captureSnapshot(hostFiles(root, true), hostProc(true), { label: 'now' }), { a, b: 'this host, now' }];
}

function parseOrExit(text: string, name: string): Snapshot {
  try {
    return parseSnapshot(text, name);
  } catch (e) {
    throw new CliExit(EXIT.usage, `joinagent diff: ${(e as Error).message}`);
  }
}

// --out and diff's file arguments are the operator's own paths (relative to the current
// directory), not host paths under --root.
async function readOperatorFile(p: string): Promise<string> {
  const text = await hostFiles('/', true).read(path.resolve(p));
  if (text === null) throw new CliExit(EXIT.usage, `joinagent diff: ${p}: no such file`);
  return text;
}

async function writeOperatorFile(p: string, text: string): Promise<string> {
  const abs = path.resolve(p);
  await hostFiles('/').write(abs, text, { mode: 0o600, backup: false });
  return abs;
}

async function writeDefault(root: string, text: string, takenAt: string): Promise<string> {
  const files = hostFiles(root);
  const p = `${paths.snapshotDir}/snapshot-${takenAt.replace(/[:.]/g, '')}.json`;
  await files.mkdir(paths.snapshotDir, 0o700);
  await files.write(p, text, { mode: 0o600, backup: false });
  return p;
}
