import { StepError, type Change, type CheckResult, type Step, type StepContext } from '../../engine/step.js';
import { describeFailure } from '../../host/proc.js';
import { commandChange, commandOf } from './file-change.js';
import { cniOverlayPort } from '../../join/notready-facts.js';

// ufw writes ranges with a colon (30000:32767/tcp); firewalld and our config use a dash.
export function ufwPort(spec: string): string {
  return spec.replace('-', ':');
}

// The configured ports not yet in `present` (compared in the tool's own notation).
export function missingPorts(wanted: string[], present: string[], tool: 'firewalld' | 'ufw'): string[] {
  const norm = tool === 'ufw' ? ufwPort : (s: string): string => s;
  const have = new Set(present.map(norm));
  return wanted.filter((p) => !have.has(norm(p)));
}

// Parses `ufw show added` ("ufw allow 10250/tcp" lines): the rules ufw keeps whether or
// not it is active (`ufw status` lists nothing while inactive).
export function parseUfwAdded(text: string): string[] {
  return [...text.matchAll(/^ufw allow (\d+(?::\d+)?\/(?:tcp|udp))\s*$/gm)].map((m) => m[1]);
}

interface UnitState {
  load: string;
  active: string;
  enabled: string;
}

// One `systemctl show` answers installed, running and enabled at once.
export async function unitState(ctx: StepContext, unit: string): Promise<UnitState> {
  const r = await ctx.proc.probe('systemctl', ['show', unit, '--property=LoadState,ActiveState,UnitFileState'], { allowFailure: true });
  const get = (k: string): string => new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? '';
  return r.exitCode === 0 ? { load: get('LoadState'), active: get('ActiveState'), enabled: get('UnitFileState') } : { load: 'not-found', active: '', enabled: '' };
}

// firewall: the runbook's choice (firewalld on dnf hosts, ufw on apt hosts): either off,
// or permanent rules for the worker and CNI ports; `leave` touches nothing.
export const firewallStep: Step = {
  id: 'firewall',
  title: 'firewall: disabled or worker ports open',
  phase: 'host',
  async check(ctx) {
    const mode = ctx.config.agent.host.firewall;
    if (mode === 'leave') return { state: 'skip', reason: 'host.firewall: leave' };
    const wanted = mode === 'open-ports' ? await wantedPorts(ctx) : [];
    return ctx.facts.family === 'rhel' ? checkFirewalld(ctx, mode, wanted) : checkUfw(ctx, mode, wanted);
  },
  async apply(ctx, changes) {
    for (const c of changes) {
      const argv = commandOf(c);
      if (!argv) continue;
      const [file, ...args] = argv;
      const r = await ctx.proc.run(file, args, { allowFailure: true, timeoutMs: 120_000 });
      if (r.exitCode !== 0) throw new StepError(`firewall: ${describeFailure(r)}`, 'check the firewall service (journalctl -u firewalld / ufw status verbose), or set host.firewall: leave and manage it yourself');
    }
  },
};

// host.firewallPorts, plus the overlay port of the CNI config on the node once the CNI has
// written one (Calico VXLAN's 4789/udp where the defaults name flannel's 8472/udp): the
// port the pods' traffic between nodes arrives on is the one the CNI really uses.
export async function wantedPorts(ctx: StepContext): Promise<string[]> {
  const wanted = ctx.config.agent.host.firewallPorts;
  const overlay = await cniOverlayPort(ctx.files);
  return overlay && !wanted.includes(overlay.port) ? [...wanted, overlay.port] : wanted;
}

async function checkFirewalld(ctx: StepContext, mode: 'disable' | 'open-ports', wanted: string[]): Promise<CheckResult> {
  const u = await unitState(ctx, 'firewalld');
  if (u.load === 'not-found' || u.load === '') return { state: 'skip', reason: 'firewalld is not installed' };
  if (mode === 'disable') {
    if (u.active !== 'active' && u.enabled !== 'enabled') return { state: 'ok', message: 'firewalld stopped and disabled' };
    const undo = u.active === 'active' && u.enabled === 'enabled' ? ['enable', '--now'] : u.enabled === 'enabled' ? ['enable'] : ['start'];
    return { state: 'change', changes: [commandChange(['systemctl', 'disable', '--now', 'firewalld'], [['systemctl', ...undo, 'firewalld']])] };
  }
  // firewalld answers only while running; offline, firewall-offline-cmd edits the same
  // permanent configuration that the service loads at its next start.
  const running = u.active === 'active';
  const tool = running ? 'firewall-cmd' : 'firewall-offline-cmd';
  const list = await ctx.proc.probe(tool, running ? ['--permanent', '--list-ports'] : ['--list-ports'], { allowFailure: true });
  if (list.exitCode !== 0) throw new StepError(`firewall: cannot list firewalld ports: ${describeFailure(list)}`, 'check firewalld (systemctl status firewalld)');
  const missing = missingPorts(wanted, list.stdout.split(/\s+/).filter(Boolean), 'firewalld');
  const changes: Change[] = [];
  const perm = running ? ['--permanent'] : [];
  if (missing.length) changes.push(commandChange([tool, ...perm, ...missing.map((p) => `--add-port=${p}`)], [[tool, ...perm, ...missing.map((p) => `--remove-port=${p}`)], ...(running ? [['firewall-cmd', '--reload']] : [])]));
  if (running) {
    const live = await ctx.proc.probe('firewall-cmd', ['--list-ports'], { allowFailure: true });
    if (missing.length || missingPorts(wanted, live.stdout.split(/\s+/).filter(Boolean), 'firewalld').length) changes.push(commandChange(['firewall-cmd', '--reload'], []));
  }
  return changes.length ? { state: 'change', changes } : { state: 'ok', message: `firewalld allows ${wanted.join(' ')}` };
}

async function checkUfw(ctx: StepContext, mode: 'disable' | 'open-ports', wanted: string[]): Promise<CheckResult> {
  const status = await ctx.proc.probe('ufw', ['status'], { allowFailure: true });
  if (status.notFound) return { state: 'skip', reason: 'ufw is not installed' };
  const active = /^Status: active/m.test(status.stdout);
  if (mode === 'disable') {
    return active ? { state: 'change', changes: [commandChange(['ufw', 'disable'], [['ufw', '--force', 'enable']])] } : { state: 'ok', message: 'ufw inactive' };
  }
  const added = await ctx.proc.probe('ufw', ['show', 'added'], { allowFailure: true });
  const missing = missingPorts(wanted, parseUfwAdded(added.stdout), 'ufw');
  // ufw applies a rule at once when active and keeps it for when it is enabled later.
  const changes = missing.map((p) => commandChange(['ufw', 'allow', ufwPort(p)], [['ufw', 'delete', 'allow', ufwPort(p)]]));
  return changes.length ? { state: 'change', changes } : { state: 'ok', message: `ufw allows ${wanted.join(' ')}` };
}
