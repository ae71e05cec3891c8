import { applyPatch, reversePatch, structuredPatch } from 'diff';
import { BLOCK_BEGIN, BLOCK_END, COMMENT_PREFIX, KEPT_SUFFIX, REMOVED_LINE_PATTERNS } from '../../host/markers.js';

export type RevertMethod = 'exact' | 'three-way' | 'markers';

// Undoes joinagent's edits of one text file and keeps everyone else's.
//  - current is what joinagent last wrote: the original, byte for byte;
//  - else take joinagent's own edit (original -> written) and apply it in reverse to
//    the current file, so later foreign edits stay;
//  - when that does not apply (foreign edits touch the same lines) or joinagent's last
//    write is unknown, undo by the markers every joinagent edit leaves.
// Returns null when nothing of joinagent's can be found in the current file.
export function revertText(file: string, original: string, written: string | undefined, current: string): { content: string; method: RevertMethod } | null {
  if (written !== undefined && current === written) return { content: original, method: 'exact' };
  if (written !== undefined) {
    const ours = structuredPatch(file, file, original, written, '', '', { context: 3 });
    const undone = applyPatch(current, reversePatch(ours));
    if (undone !== false) return { content: keepFinalNewline(undone, original, current), method: 'three-way' };
  }
  const byMarkers = keepFinalNewline(restoreRemovedLines(original, undoMarkers(current), REMOVED_LINE_PATTERNS[file]), original, current);
  return byMarkers === current ? null : { content: byMarkers, method: 'markers' };
}

// An original without a final newline must not take a later operator's line with it:
// when the file now ends in someone else's terminated line, keep its newline (else the
// next `echo >> file` would glue two entries together).
function keepFinalNewline(result: string, original: string, current: string): string {
  if (result.endsWith('\n') || !current.endsWith('\n')) return result;
  const last = result.slice(result.lastIndexOf('\n') + 1);
  const origLast = original.slice(original.lastIndexOf('\n') + 1);
  return last === origLast ? result : `${result}\n`;
}

// Uncomments the lines joinagent disabled and drops the block it manages.
export function undoMarkers(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === BLOCK_BEGIN) {
      const end = lines.findIndex((l, j) => j > i && l.trim() === BLOCK_END);
      // an unterminated block is not ours to guess about: leave it
      if (end > i) {
        i = end;
        continue;
      }
    }
    if (line.endsWith(KEPT_SUFFIX)) continue;
    out.push(line.startsWith(COMMENT_PREFIX) ? line.slice(COMMENT_PREFIX.length) : line);
  }
  return out.join('\n');
}

// Puts back the original lines joinagent deletes outright (hosts: 127.0.1.1 self-names)
// at their original position, when the current file no longer has them.
export function restoreRemovedLines(original: string, current: string, pattern: RegExp | undefined): string {
  if (!pattern) return current;
  const orig = original.split('\n');
  const cur = current.split('\n');
  for (let i = 0; i < orig.length; i++) {
    if (!pattern.test(orig[i]) || cur.includes(orig[i])) continue;
    // after the line that preceded it in the original, else at the same index
    const prev = i > 0 ? cur.indexOf(orig[i - 1]) : -1;
    const at = prev >= 0 ? prev + 1 : Math.min(i, Math.max(0, cur.length - (current.endsWith('\n') ? 1 : 0)));
    cur.splice(at, 0, orig[i]);
  }
  return cur.join('\n');
}
