// Conventions every joinagent edit of a shared host file follows, so `reset --all` can
// undo joinagent's own edits and keep everything else (even when it cannot tell by content).

/** fstab (and any line-oriented file): a line joinagent disables is kept, prefixed with this. */
export const COMMENT_PREFIX = '# joinagent: ';

/** A line joinagent adds right after one it commented out, to keep what else that line
 * said (hosts: the names that did not conflict); reset drops it with the comment undone. */
export const KEPT_SUFFIX = ' # joinagent: kept from the line above';

/** hosts (and any file with a block of lines joinagent owns): the block sits between these. */
export const BLOCK_BEGIN = '# BEGIN joinagent managed block';
export const BLOCK_END = '# END joinagent managed block';

/** Lines joinagent deletes outright (not commented) from a file; reset restores those found
 * in the original. /etc/hosts: the runbook drops the 127.0.1.1/127.0.2.1 self-names. */
export const REMOVED_LINE_PATTERNS: Record<string, RegExp> = {
  '/etc/hosts': /^\s*127\.0\.[12]\.1\s/,
  '/etc/fstab': /^\s*\S+\s+\S+\s+swap\s/,
};

/** Package steps may publish the names they installed under this key; reset
 * --purge-packages removes those (and the ones named in step change records). */
export const INSTALLED_PACKAGES_KEY = 'installedPackages';
