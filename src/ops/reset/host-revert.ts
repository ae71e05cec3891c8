import { loadState, saveState, type PersistedState } from '../../engine/state.js';
import { distroFamily, parseOsRelease } from '../../host/facts.js';
import { readManifest } from '../../host/files.js';
import { INSTALLED_PACKAGES_KEY } from '../../host/markers.js';
import { paths } from '../../host/paths.js';
import { changeRevertPlan } from './change-revert.js';
import type { ResetContext, ResetPlan } from './types.js';

// Live settings joinagent changed that no file restore brings back. What to restore is
// decided from joinagent's own records only:
//  - SELinux: the original /etc/selinux/config in the backup manifest; enforcing there
//    and permissive now -> setenforce 1 (the restored file covers the next boot);
//  - firewall: the state.json change log names firewalld/ufw being disabled;
//  - packages: the change log's "install ..." records and the published installedPackages.
export async function hostRevertPlan(ctx: ResetContext, purgePackages: boolean): Promise<ResetPlan> {
  const plan: ResetPlan = { actions: [], warnings: [] };
  // planning changes nothing, not even a corrupt state file (the clear action keeps it aside)
  const state = await loadState(ctx.files, (w) => plan.warnings.push(w), false);
  await selinux(ctx, plan);
  // every recorded change with its undo; records of older agents (no undo) as before
  const legacy = changeRevertPlan(ctx, state, plan, purgePackages);
  if (legacy.size) await firewall(ctx, plan, { changeLog: state.changeLog?.filter((r) => legacy.has(r.step)) });
  if (purgePackages) await packages(ctx, plan, state);
  if (state.changeLog?.length) {
    plan.actions.push({
      title: `clear joinagent's change log in ${paths.state}`,
      async run() {
        const s = await loadState(ctx.files);
        delete s.changeLog;
        await saveState(ctx.files, s);
      },
    });
  }
  return plan;
}

async function selinux({ files, proc }: ResetContext, plan: ResetPlan): Promise<void> {
  const entry = (await readManifest(files))[paths.selinuxConfig];
  const original = entry?.original ? await files.read(entry.original) : null;
  if (!original || !/^\s*SELINUX\s*=\s*enforcing\s*$/m.test(original)) return;
  const live = await proc.probe('getenforce', [], { allowFailure: true });
  if (live.notFound || live.stdout.trim() !== 'Permissive') return;
  plan.actions.push({ title: 'switch SELinux back to enforcing now (setenforce 1), as it was before joinagent', command: 'setenforce 1', run: async () => void (await proc.run('setenforce', ['1'])) });
}

async function firewall({ proc }: ResetContext, plan: ResetPlan, state: Pick<PersistedState, 'changeLog'>): Promise<void> {
  const records = (state.changeLog ?? []).flatMap((r) => r.changes.map((c) => ({ step: r.step, text: c })));
  for (const service of ['firewalld', 'ufw'] as const) {
    const disabled = records.some((r) => r.text.includes(service) && /disabl|stop|inactive|mask/i.test(r.text));
    if (!disabled) continue;
    const active = await proc.probe('systemctl', ['is-active', service], { allowFailure: true });
    if (active.stdout.trim() === 'active') continue;
    plan.actions.push(
      service === 'firewalld'
        ? { title: 're-enable the firewall joinagent disabled (systemctl enable --now firewalld)', run: async () => void (await proc.run('systemctl', ['enable', '--now', 'firewalld'])) }
        : { title: 're-enable the firewall joinagent disabled (ufw --force enable)', run: async () => void (await proc.run('ufw', ['--force', 'enable'])) },
    );
  }
  const ports = [...new Set(records.filter((r) => /firewall|port/i.test(r.step + r.text)).flatMap((r) => r.text.match(/\b\d+(?:-\d+)?\/(?:tcp|udp)\b/g) ?? []))];
  if (ports.length) plan.warnings.push(`firewall ports joinagent opened are left open: ${ports.join(', ')} (firewall-cmd --permanent --remove-port=PORT; firewall-cmd --reload)`);
}

async function packages({ files, proc }: ResetContext, plan: ResetPlan, state: PersistedState): Promise<void> {
  const names = installedPackages(state);
  if (names.length === 0) {
    plan.warnings.push('--purge-packages: joinagent has no record of packages it installed: none removed');
    return;
  }
  const family = distroFamily(parseOsRelease((await files.read(paths.osRelease)) ?? ''));
  if (family === 'debian') {
    plan.actions.push({
      title: `remove the packages joinagent installed: apt-get purge -y ${names.join(' ')}`,
      async run() {
        await proc.run('apt-mark', ['unhold', ...names], { allowFailure: true });
        await proc.run('apt-get', ['purge', '-y', ...names], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
      },
    });
  } else if (family === 'rhel') {
    // the versionlock entries go first, as apt's holds do: a lock outlives the package
    // and would pin a later install to the old version
    plan.actions.push({
      title: `remove the packages joinagent installed: dnf remove -y ${names.join(' ')}`,
      async run() {
        await proc.run('dnf', ['versionlock', 'delete', '-q', ...names], { allowFailure: true });
        await proc.run('dnf', ['remove', '-y', ...names]);
      },
    });
  } else plan.warnings.push(`--purge-packages: unknown distribution in ${paths.osRelease}: not removing ${names.join(' ')}`);
}

const NOT_PACKAGES = new Set(['install', 'installed', 'installing', 'package', 'packages', 'apt', 'apt-get', 'dnf', 'yum', 'and', 'with', 'from']);

// Package names from the change log ("install kubelet=1.32.11-1.1 kubeadm ...",
// "kubelet: absent -> 1.32.11") and the published list; versions are dropped.
export function installedPackages(state: Pick<PersistedState, 'changeLog' | 'published'>): string[] {
  const out = new Set<string>();
  const published = state.published?.[INSTALLED_PACKAGES_KEY];
  if (Array.isArray(published)) for (const n of published) if (typeof n === 'string') out.add(n);
  for (const text of (state.changeLog ?? []).flatMap((r) => r.changes)) {
    const inst = /\binstall(?:ed)?\b:?\s+(.+)$/i.exec(text);
    const value = /^(?:package\s+)?([a-z0-9][a-z0-9+._-]*):\s*(?:absent|none|not installed|-|\(none\))\s*->/i.exec(text);
    if (value) out.add(value[1]);
    if (!inst) continue;
    for (const word of inst[1].split(/[\s,]+/)) {
      if (word.startsWith('-') || !/^[a-z0-9]/.test(word)) continue;
      const name = word.replace(/=.*$/, '').replace(/-\d[\w.:~+-]*$/, '');
      if (/^[a-z0-9][a-z0-9+._-]+$/.test(name) && !NOT_PACKAGES.has(name)) out.add(name);
    }
  }
  return [...out].sort();
}
