import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { renderPlan } from '../../../src/cli/plan-output.js';
import { PROXY_FILES, proxyStep } from '../../../src/steps/host/proxy.js';
import { FakeProc, rockyFacts, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';
import { runTwice } from '../host/run-twice.js';

const PASSWORD = 'pw7';
const proxy = { http: `http://ops:${PASSWORD}@squid.site:3128`, https: `http://ops:${PASSWORD}@squid.site:3128`, noProxy: ['.corp.example'], clusterCIDRs: ['10.96.0.0/12'] };
const ADDR = JSON.stringify([{ ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.168.10.101', scope: 'global' }] }]);

// systemd as far as the step sees it: drop-ins are loaded at daemon-reload; containerd runs.
function systemd(root: ReturnType<typeof tempRoot>, proc: FakeProc, active: Record<string, boolean>): void {
  const loaded = new Set<string>();
  proc.on('ip -j addr show', { stdout: ADDR });
  // as systemctl: one block per unit asked, in the order asked, an empty line between
  proc.on(/^systemctl show -p Id,DropInPaths,ActiveState,LoadState /, (c) => ({
    stdout: c.args.slice(3).map((unit) => `Id=${unit}.service\nDropInPaths=${loaded.has(unit) ? `/etc/systemd/system/${unit}.service.d/http-proxy.conf` : ''}\nActiveState=${active[unit] ? 'active' : 'inactive'}\nLoadState=loaded\n`).join('\n'),
  }));
  proc.on('systemctl daemon-reload', () => {
    loaded.clear();
    for (const u of ['containerd', 'kubelet'] as const) if (existsSync(root.files.resolve(PROXY_FILES[u]))) loaded.add(u);
    return { exitCode: 0 };
  });
  proc.on(/^systemctl restart /, { exitCode: 0 });
}

describe('proxy step', () => {
  it('Debian: drop-ins and apt conf 0600 with the proxy, reload + restart of the running containerd only; plan never shows the password; second run ok', async () => {
    const t = tempRoot();
    after(t.cleanup);
    await t.files.mkdir('/run/systemd/system');
    const proc = new FakeProc();
    systemd(t, proc, { containerd: true, kubelet: false });
    const ctx = stepContext(t.files, proc, testConfig({ proxy }));
    const first = await proxyStep.check(ctx);
    assert.equal(first.state, 'change');
    const plan = renderPlan([{ id: 'proxy', state: 'changed', changes: first.state === 'change' ? first.changes : [], attempts: 1, durationMs: 0 } as never], new Map());
    assert.ok(!plan.includes(PASSWORD), plan);
    assert.match(plan, /\+Environment="HTTPS_PROXY=http:\/\/ops:<redacted>@squid\.site:3128"/);
    assert.match(plan, /NO_PROXY=localhost,127\.0\.0\.1,::1,\.svc,\.svc\.cluster\.local,192\.168\.10\.100,192\.168\.10\.101,k8s-w1,10\.96\.0\.0\/12,\.corp\.example/);
    assert.match(plan, /\* run: systemctl daemon-reload\n.*\* run: systemctl restart containerd/s);
    assert.doesNotMatch(plan, /restart kubelet/, 'kubelet is not running: nothing to restart');
    await runTwice(proxyStep, ctx, proc);
    for (const f of [PROXY_FILES.containerd, PROXY_FILES.kubelet, PROXY_FILES.apt]) {
      assert.equal((await t.files.stat(f))?.mode, 0o600, f);
      assert.ok((await t.files.read(f))!.includes(`ops:${PASSWORD}@`), `${f} holds the real URL`);
    }
    assert.deepEqual(ctx.published.proxy, { http: 'http://ops:<redacted>@squid.site:3128', https: 'http://ops:<redacted>@squid.site:3128', noProxy: ['localhost', '127.0.0.1', '::1', '.svc', '.svc.cluster.local', '192.168.10.100', '192.168.10.101', 'k8s-w1', '10.96.0.0/12', '.corp.example'] });
  });
  it('the proxy removed from the config: joinagent\'s files go, others\' drop-ins stay', async () => {
    const t = tempRoot();
    after(t.cleanup);
    await t.files.mkdir('/run/systemd/system');
    const proc = new FakeProc();
    systemd(t, proc, { containerd: true, kubelet: true });
    await runTwice(proxyStep, stepContext(t.files, proc, testConfig({ proxy })), proc);
    await t.files.write('/etc/systemd/system/containerd.service.d/other.conf', '[Service]\nLimitNOFILE=1048576\n');
    const ctx = stepContext(t.files, proc, testConfig());
    // check, apply, then a skip (not ok: there is no proxy) that runs nothing
    const first = await proxyStep.check(ctx);
    await proxyStep.apply(ctx, first.state === 'change' ? first.changes : []);
    proc.reset();
    const r = { first, second: await proxyStep.check(ctx) };
    assert.deepEqual(proc.runs(), []);
    assert.deepEqual(r.first.state === 'change' && r.first.changes.map((c) => (c.kind === 'file' ? `rm ${c.path}` : c.kind === 'action' ? c.description : '')), [`rm ${PROXY_FILES.containerd}`, `rm ${PROXY_FILES.kubelet}`, `rm ${PROXY_FILES.apt}`, 'run: systemctl daemon-reload', 'run: systemctl restart containerd', 'run: systemctl restart kubelet']);
    assert.equal(r.second.state, 'skip');
    assert.equal(await t.files.exists('/etc/systemd/system/containerd.service.d/other.conf'), true);
  });
  it('Rocky: dnf.conf [main] gets proxy, user and password (file 0600), the rest of the file kept', async () => {
    const t = tempRoot();
    after(t.cleanup);
    await t.files.write('/etc/dnf/dnf.conf', '[main]\ngpgcheck=1\ninstallonly_limit=3\n', { mode: 0o644 });
    const proc = new FakeProc();
    proc.on('ip -j addr show', { stdout: ADDR });
    const ctx = stepContext(t.files, proc, testConfig({ proxy }), rockyFacts);
    await runTwice(proxyStep, ctx, proc);
    assert.equal(await t.files.read('/etc/dnf/dnf.conf'), `[main]\ngpgcheck=1\ninstallonly_limit=3\nproxy=http://squid.site:3128\nproxy_username=ops\nproxy_password=${PASSWORD}\n`);
    assert.equal((await t.files.stat('/etc/dnf/dnf.conf'))?.mode, 0o600);
    assert.equal(await t.files.exists(PROXY_FILES.apt), false);
  });
});
