import type { Files } from './files.js';

// "Is this unit enabled?" from the unit files, where they answer it beyond doubt, so a
// no-op re-run need not start `systemctl is-enabled` (~20-60 ms a process). Enabling a
// unit is nothing but the symlinks its [Install] section names, in /etc/systemd/system;
// systemctl is-enabled reports "enabled" when they are there. Anything that could make
// systemctl say something else (a mask, a runtime or generated unit, a linked unit file, a
// unit without a plain WantedBy=/RequiredBy= install section, a missing symlink) returns
// undefined, and the caller asks systemctl: this only ever answers "enabled".
const ETC = '/etc/systemd/system';
// searched before /etc, or holding runtime state: any entry there means "ask systemctl"
const OVERRIDING = ['/etc/systemd/system.control', '/run/systemd/system.control', '/run/systemd/transient', '/run/systemd/generator.early', '/run/systemd/system', '/run/systemd/generator', '/run/systemd/generator.late'];
const VENDOR = ['/usr/local/lib/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

export async function enabledFromUnitFiles(files: Files, unit: string): Promise<true | undefined> {
  for (const dir of OVERRIDING) if ((await files.lstat(`${dir}/${unit}`)) !== null) return undefined;
  let text: string | null = null;
  const own = await files.lstat(`${ETC}/${unit}`);
  if (own !== null) {
    if (own.type !== 'file') return undefined; // a mask (-> /dev/null) or a linked unit file
    text = await files.read(`${ETC}/${unit}`);
  } else {
    for (const dir of VENDOR) {
      const st = await files.lstat(`${dir}/${unit}`);
      if (st === null) continue;
      if (st.type !== 'file') return undefined;
      text = await files.read(`${dir}/${unit}`);
      break;
    }
  }
  if (text === null) return undefined;
  const install = installTargets(text);
  if (!install) return undefined;
  for (const { target, kind } of install) {
    const link = await files.lstat(`${ETC}/${target}.${kind}/${unit}`);
    if (link?.type !== 'link') return undefined;
  }
  return true;
}

// Pure: the [Install] section's WantedBy=/RequiredBy= targets, or undefined when it has
// anything else (Alias=, Also=, DefaultInstance=, specifiers) or nothing to enable.
export function installTargets(unitText: string): { target: string; kind: 'wants' | 'requires' }[] | undefined {
  let section = '';
  const out: { target: string; kind: 'wants' | 'requires' }[] = [];
  for (const raw of unitText.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1];
      continue;
    }
    if (section !== 'Install') continue;
    const kv = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (!kv || line.endsWith('\\') || kv[2].includes('%')) return undefined;
    const kind = kv[1] === 'WantedBy' ? 'wants' : kv[1] === 'RequiredBy' ? 'requires' : undefined;
    if (!kind) return undefined;
    for (const target of kv[2].split(/\s+/).filter(Boolean)) out.push({ target, kind });
  }
  return out.length ? out : undefined;
}
