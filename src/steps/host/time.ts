import { StepError, type Change, type Step, type StepContext } from '../../engine/step.js';
import { describeFailure } from '../../host/proc.js';
import { warnOnce } from './file-change.js';

export interface TimeSettings {
  timezone: string;
  localRTC: boolean;
  ntp: boolean;
  /** false when no NTP service is installed (timedatectl set-ntp would fail). */
  canNTP: boolean;
  ntpSynchronized: boolean;
}

// Parses `timedatectl show` (KEY=value lines, stable across systemd versions, unlike
// the human `timedatectl status` table).
export function parseTimedatectlShow(text: string): TimeSettings {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const yes = (k: string): boolean => kv.get(k) === 'yes';
  return { timezone: kv.get('Timezone') ?? '', localRTC: yes('LocalRTC'), ntp: yes('NTP'), canNTP: kv.get('CanNTP') !== 'no', ntpSynchronized: yes('NTPSynchronized') };
}

// Desired time settings as value changes: RTC in UTC always, the zone when configured,
// NTP on when wanted and possible (a skewed clock later shows up as x509 "not yet valid").
export function timeChanges(live: TimeSettings, want: { timezone?: string; ntp: boolean }): Change[] {
  const out: Change[] = [];
  if (live.localRTC) out.push({ kind: 'value', name: 'RTC in local time', live: 'yes', wanted: 'no', undo: [['timedatectl', 'set-local-rtc', '1']] });
  if (want.timezone && live.timezone !== want.timezone) out.push({ kind: 'value', name: 'timezone', live: live.timezone || '(unset)', wanted: want.timezone, ...(live.timezone ? { undo: [['timedatectl', 'set-timezone', '--', live.timezone]] } : {}) });
  if (want.ntp && !live.ntp && live.canNTP) out.push({ kind: 'value', name: 'NTP', live: 'off', wanted: 'on', undo: [['timedatectl', 'set-ntp', 'false']] });
  return out;
}

// time: timedatectl. Hosts without systemd (or a container without timedated) are skipped
// with a warning instead of failing the whole preparation.
export const timeStep: Step = {
  id: 'time',
  title: 'clock: RTC in UTC, timezone, NTP',
  phase: 'host',
  async check(ctx) {
    const r = await ctx.proc.probe('timedatectl', ['show'], { allowFailure: true, timeoutMs: 30_000 });
    if (r.exitCode !== 0) {
      const why = r.notFound ? 'timedatectl is not installed (no systemd?)' : describeFailure(r);
      ctx.warn(`time: cannot manage the clock: ${why}`, 'make sure the clock is synchronized by other means: a skewed clock breaks TLS bootstrap');
      return { state: 'skip', reason: why };
    }
    const live = parseTimedatectlShow(r.stdout);
    ctx.publish('ntpSynchronized', live.ntpSynchronized);
    if (ctx.config.agent.host.ntp && !live.ntp && !live.canNTP) {
      warnNoNtp(ctx);
    }
    const changes = timeChanges(live, ctx.config.agent.host);
    return changes.length ? { state: 'change', changes } : { state: 'ok', message: `timezone ${live.timezone}, NTP ${live.ntp ? 'on' : 'off'}, synchronized: ${live.ntpSynchronized ? 'yes' : 'no'}` };
  },
  async apply(ctx, changes) {
    for (const c of changes) {
      if (c.kind !== 'value') continue;
      // "--": whatever the zone is called, it is never read as an option
      const args = c.name === 'timezone' ? ['set-timezone', '--', c.wanted] : c.name === 'NTP' ? ['set-ntp', 'true'] : ['set-local-rtc', '0'];
      const r = await ctx.proc.run('timedatectl', args, { allowFailure: true, timeoutMs: 60_000 });
      if (r.exitCode !== 0) throw new StepError(`time: ${c.name} -> ${c.wanted} failed: ${describeFailure(r)}`, c.name === 'timezone' ? `check that "${c.wanted}" exists under /usr/share/zoneinfo (package tzdata)` : 'check systemd-timedated: journalctl -u systemd-timedated');
    }
  },
};

function warnNoNtp(ctx: StepContext): void {
  warnOnce(ctx, 'time: no NTP service is installed (timedatectl CanNTP=no): the clock is not kept in sync', 'install chrony (dnf) or systemd-timesyncd (apt), or set host.ntp: false');
}
