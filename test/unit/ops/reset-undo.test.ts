import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Agent } from '../../../src/agent/converge.js';
import { createLogger } from '../../../src/log/logger.js';
import { executeReset, planReset } from '../../../src/ops/reset/reset.js';
import { modulesStep } from '../../../src/steps/host/modules.js';
import { swapStep } from '../../../src/steps/host/swap.js';
import { sysctlStep } from '../../../src/steps/host/sysctl.js';
import { timeStep } from '../../../src/steps/host/time.js';
import { firewallStep } from '../../../src/steps/host/firewall.js';
import { simulateHost } from '../host/sim-host.js';

// Issue 17 item 4: reset --all undoes every change the agent made, or says precisely
// which it cannot. The swap step masked swap units and nothing ever unmasked them, so
// swap stayed off for good. Here the real steps run through the agent (which records
// what they changed in state.json), then reset --all plans from that record.
test('reset --all undoes what the host steps did: swap units unmasked and swap on, sysctls, time, firewall; says what it leaves', async () => {
  const sim = simulateHost('rhel');
  after(sim.cleanup);
  const steps = [timeStep, firewallStep, swapStep, modulesStep, sysctlStep];
  const agent = new Agent(sim.config, { mode: 'prepare', root: sim.root, log: createLogger('json', 'silent'), readOnly: false, serve: false, stepSet: 'prepare', steps: () => steps, files: sim.files, proc: sim.proc });
  await agent.start();
  const r = await agent.converge('prepare');
  await agent.stop();
  assert.equal(r.ok, true, JSON.stringify(r.outcomes));

  const proc = sim.proc;
  proc.on('kubeadm reset --force', {}).on('systemctl stop kubelet', {}).on(/^systemctl (unmask|enable|start)/, {}).on(/^swapon /, {}).on(/^timedatectl set-(ntp false|local-rtc 1)/, {}).on('getenforce', { stdout: 'Permissive\n' }).on('setenforce 1', {});
  proc.on('systemctl is-active firewalld', { stdout: 'inactive\n', exitCode: 3 });
  const plan = await planReset({ files: sim.files, proc }, { all: true, purgePackages: false });
  proc.reset();
  const results = await executeReset(plan, () => undefined);
  assert.deepEqual(results.filter((x) => !x.ok), []);
  const ran = proc.runs();
  for (const cmd of [
    'systemctl unmask swapfile.swap',
    'systemctl unmask dev-disk-by\\x2duuid-5b2c1ee7.swap',
    'swapon /swapfile',
    'sysctl -w net.ipv4.ip_forward=0',
    'sysctl -w net.bridge.bridge-nf-call-iptables=0',
    'timedatectl set-timezone -- Etc/UTC',
    'timedatectl set-ntp false',
    'timedatectl set-local-rtc 1',
    'systemctl enable --now firewalld',
  ]) {
    assert.ok(ran.includes(cmd), `reset ran "${cmd}":\n${ran.join('\n')}`);
  }
  assert.equal(ran.filter((c) => c === 'systemctl enable --now firewalld').length, 1, 'each undo once');
  // swap comes back on after fstab is restored and the units are unmasked
  assert.ok(ran.indexOf('swapon /swapfile') > ran.indexOf('systemctl unmask swapfile.swap'));
  const left = plan.warnings.join('\n');
  assert.match(left, /modules overlay, br_netfilter stay loaded until the next boot \(modprobe -r br_netfilter overlay unloads them now\)/);
  assert.doesNotMatch(left, /keep their current values until the next boot/, 'no vague catch-all');
});
