import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runSteps } from '../../../src/engine/engine.js';
import { EventBus, type AgentEvent } from '../../../src/engine/events.js';
import { hostPreparationSteps } from '../../../src/steps/host/index.js';
import { stepContext } from '../../helpers/fakes.js';
import { simulateHost } from './sim-host.js';

// Every host step through the real engine on a simulated Debian and Rocky host: the
// first run converges, the second is all ok and runs nothing that changes the host.
for (const family of ['debian', 'rhel'] as const) {
  describe(`host preparation on a simulated ${family} host`, () => {
    const sim = simulateHost(family);
    after(sim.cleanup);
    const run = async () => {
      const ctx = stepContext(sim.files, sim.proc, sim.config, sim.facts);
      const bus = new EventBus();
      const events: AgentEvent[] = [];
      bus.on((e) => events.push(e));
      const { progress: _p, ...base } = ctx;
      const r = await runSteps(hostPreparationSteps(sim.config, sim.facts), { ...base, warn: (m, h) => bus.emit({ type: 'warning', message: m, hint: h }) }, bus, { mode: 'prepare', checkOnly: false, random: () => 0 });
      return { r, events, published: ctx.published };
    };
    const read = (h: string): string => readFileSync(path.join(sim.root, h), 'utf8');

    it('first run converges every step', async () => {
      const { r } = await run();
      const states = Object.fromEntries(r.outcomes.map((o) => [o.id, o.state === 'failed' ? `failed: ${o.message}` : o.state]));
      assert.deepEqual(states, {
        time: 'changed',
        selinux: family === 'rhel' ? 'changed' : 'skipped',
        firewall: 'changed',
        swap: 'changed',
        modules: 'changed',
        sysctl: 'changed',
        hosts: 'changed',
        proxy: 'skipped',
        packages: 'changed',
        crictl: 'changed',
        'networkmanager-cni': 'skipped',
      });
      assert.ok(r.ok);
      assert.match(read('/etc/fstab'), /^# joinagent: \/swapfile\tnone\tswap/m);
      assert.match(read('/etc/fstab'), /^\/dev\/sdb1 +\/mnt\/swapdata/m);
      assert.equal(read('/proc/swaps').split('\n').filter(Boolean).length, 1, 'only the header is left');
      assert.equal(read('/proc/sys/net/ipv4/ip_forward').trim(), '1');
      assert.equal(read('/proc/sys/net/bridge/bridge-nf-call-iptables').trim(), '1');
      assert.match(read('/etc/hosts'), /# BEGIN joinagent managed block\n192\.168\.10\.100\tk8s-ctr\n192\.168\.10\.101\tk8s-w1\n# END joinagent managed block\n$/);
      assert.doesNotMatch(read('/etc/hosts'), /127\.0\.1\.1/);
      assert.match(read('/etc/hosts'), /127\.0\.2\.1\tother-host/);
      assert.equal(read('/etc/crictl.yaml'), 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\n');
      const kube = family === 'debian' ? '1.32.11-1.1' : '1.32.11-150500.1.1';
      assert.equal(sim.installed.get('kubelet'), kube);
      assert.equal(sim.installed.get('kubeadm'), kube);
      assert.match(sim.installed.get('containerd.io') ?? '', /^2\.1\.5-/);
      const installs = sim.proc.runs().filter((l) => /^(apt-get|dnf) install/.test(l));
      assert.equal(installs.length, 1, 'one package transaction');
      if (family === 'debian') {
        assert.ok(sim.proc.runs().includes('apt-mark hold kubelet kubeadm kubectl cri-tools'));
        assert.match(installs[0], /--no-install-recommends/);
        assert.match(installs[0], /-o DPkg::Lock::Timeout=120/);
      } else {
        assert.equal(read('/sys/fs/selinux/enforce'), '0');
        assert.equal(read('/etc/selinux/config'), '# This file controls the state of SELinux on the system.\nSELINUX=permissive\n# SELINUXTYPE= can take one of these values:\nSELINUXTYPE=targeted\n');
        assert.match(installs[0], /--setopt=install_weak_deps=False --setopt=disable_excludes=kubernetes/);
        assert.match(read('/etc/yum.repos.d/kubernetes.repo'), /^exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni$/m);
      }
      assert.ok(sim.proc.runs().includes('systemctl enable --no-reload kubelet'));
    });

    it('second run is all ok (or skipped) and runs no changing command', async () => {
      sim.proc.reset();
      const { r, published } = await run();
      for (const o of r.outcomes) assert.ok(o.state === 'ok' || o.state === 'skipped', `${o.id}: ${o.state} ${o.message ?? ''} ${JSON.stringify(o.changes)}`);
      assert.deepEqual(sim.proc.runs(), []);
      assert.equal(published.ntpSynchronized, true);
    });
  });
}
