// What every node of a Debian release has, as a dpkg status file: the packages of
// priority required and the Essential ones (what debootstrap's minbase installs), with
// everything they depend on, taken from this machine's own status. The bundle resolves
// its dependencies against this, not against everything this machine happens to have:
// a build machine with iptables installed would otherwise leave kubelet's iptables out of
// the bundle, and the air-gapped node, which lacks it, could not install kubelet.

interface Stanza {
  name: string;
  text: string;
  installed: boolean;
  base: boolean;
  deps: string[][];
  provides: string[];
}

// dpkg's status -> the stanzas of the base set, in their original order and form.
export function baseStatus(status: string): string {
  const stanzas = status.split(/\n\n+/).map(parseStanza).filter((s): s is Stanza => s !== undefined && s.installed);
  const byName = new Map<string, Stanza[]>();
  for (const s of stanzas) for (const n of [s.name, ...s.provides]) byName.set(n, [...(byName.get(n) ?? []), s]);
  const keep = new Set<Stanza>();
  const queue = stanzas.filter((s) => s.base);
  while (queue.length) {
    const s = queue.pop()!;
    if (keep.has(s)) continue;
    keep.add(s);
    // an alternative ("a | b") counts by whichever of its packages is installed
    for (const alternatives of s.deps) for (const n of alternatives) queue.push(...(byName.get(n) ?? []));
  }
  return stanzas.filter((s) => keep.has(s)).map((s) => s.text).join('\n\n') + '\n';
}

function parseStanza(text: string): Stanza | undefined {
  const fields = new Map<string, string>();
  let last = '';
  for (const line of text.trim().split('\n')) {
    if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last)}\n${line}`);
    else {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      last = line.slice(0, i);
      fields.set(last, line.slice(i + 1).trim());
    }
  }
  const name = fields.get('Package');
  if (!name) return undefined;
  const names = (v: string | undefined): string[][] => (v ?? '').split(',').map((d) => d.split('|').map((a) => a.trim().split(/[\s(:]/)[0]).filter(Boolean)).filter((a) => a.length);
  return {
    name,
    text: text.trim(),
    installed: / installed$/.test(fields.get('Status') ?? ''),
    base: fields.get('Priority') === 'required' || fields.get('Essential') === 'yes',
    deps: [...names(fields.get('Pre-Depends')), ...names(fields.get('Depends'))],
    provides: names(fields.get('Provides')).flat(),
  };
}
