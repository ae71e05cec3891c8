import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../fixtures/controlplane.js';
import { asRoot, needs, onPath } from '../../helpers/needs.js';
import { BINARY, runBinary, runCmd, SECRET, tempRoot, TOKEN, writeConfig, type Result } from './harness.js';

// `joinagent discover` through the built binary against the simulated control plane:
// each scenario asserts its specific diagnosis and that the token secret never shows.
const WRONG = 'abcdef.fedcba9876543210';

function noSecret(r: Result): void {
  for (const s of [SECRET, 'fedcba9876543210']) {
    assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `the token secret leaked:\n${r.stdout}\n${r.stderr}`);
  }
}

async function discover(cp: { endpoint: string; caHash?: string }, over: Partial<Parameters<typeof writeConfig>[1]> = {}): Promise<Result> {
  const { root, cleanup } = tempRoot();
  try {
    const cfg = writeConfig(root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: cp.caHash ? [cp.caHash] : [], ...over });
    const r = await runBinary(['discover', '--config', cfg, '--root', root]);
    noSecret(r);
    return r;
  } finally {
    cleanup();
  }
}

describe('joinagent discover (built binary)', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ port: 19740, tokens: [TOKEN] });
  });
  after(() => cp.close());

  test('happy path: every stage passes, exit 0', async () => {
    const r = await discover(cp);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const stage of ['tcp', 'tls', 'healthz', 'version', 'clock', 'cluster-info', 'token', 'ca-pin', 'ca-verified']) {
      assert.match(r.stdout, new RegExp(`^PASS  ${stage} `, 'm'), stage);
    }
    assert.match(r.stdout, /discovery ok: API server v1\.32\.11 .* token "abcdef" valid, CA sha256:[0-9a-f]{64} pinned/);
  });

  test('unknown token: names the id, says tokens live 24h', async () => {
    const r = await discover(cp, { token: 'zzzzzz.0123456789abcdef' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}token +token "zzzzzz" is unknown or expired/);
    assert.match(r.stdout, /tokens live 24h: run `kubeadm token create --print-join-command` on the control plane/);
  });

  test('wrong secret: the signature does not verify', async () => {
    const r = await discover(cp, { token: WRONG });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}token +the cluster-info signature for token "abcdef" does not verify: the token's secret is wrong/);
  });

  test('CA pin mismatch: wrong cluster or interception', async () => {
    const r = await discover(cp, { caCertHashes: [`sha256:${'0'.repeat(64)}`] });
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`FAIL  ca-pin +CA pin mismatch: the cluster CA in cluster-info is ${cp.caHash}`));
    assert.match(r.stdout, /a different cluster, or the connection is intercepted/);
  });

  test('unpinned CA (unsafeSkipCAVerification): passes with a warning naming the pin', async () => {
    const r = await discover(cp, { caCertHashes: [], unsafe: true });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, new RegExp(`WARN  ca-pin +cluster CA ${cp.caHash} is not pinned`));
  });

  test('nothing listening: refused, not timed out', async () => {
    const r = await discover({ endpoint: '127.0.0.1:19749' }, { unsafe: true });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}tcp +connection to 127\.0\.0\.1:19749 refused: nothing listens on port 19749 there/);
    assert.doesNotMatch(r.stdout, /timed out/);
  });

  test('clock skew of 10 minutes fails; 30 s warns', async () => {
    cp.options.dateSkewMs = 10 * 60_000;
    let r = await discover(cp);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}clock +clock skew: this node's clock is 10 min behind the API server's/);
    cp.options.dateSkewMs = -30_000;
    r = await discover(cp);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /WARN {2}clock +clock skew: this node's clock is (29|30|31) s ahead of the API server's/);
    cp.options.dateSkewMs = 0;
  });

  test('server newer than kubernetesVersion: warns, still ok', async () => {
    cp.options.version = 'v1.33.2';
    const r = await discover(cp);
    cp.options.version = 'v1.32.11';
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /WARN {2}version +API server is v1\.33\.2, kubernetesVersion is v1\.32\.11: versions differ/);
  });

  test('server older than the kubelet would be: fails', async () => {
    cp.options.version = 'v1.31.4';
    const r = await discover(cp);
    cp.options.version = 'v1.32.11';
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}version +kubelet v1\.32\.11 would be newer than the API server v1\.31\.4/);
  });
});

// A port dropped by nftables inside a network namespace this test creates: discovery
// must call it filtered (timed out), not refused. Needs root and nft; skipped otherwise.
const NS = `ja-join-${process.pid}`;

describe('filtered port (netns + nftables drop)', needs(asRoot && onPath('nft'), 'needs root and nft (package nftables)'), () => {
  let cp: ControlPlane;
  const sh = (cmd: string): void => {
    execFileSync('sh', ['-c', cmd], { stdio: 'pipe' });
  };
  before(async () => {
    sh(`ip netns add ${NS} && ip link add ja-jh${process.pid % 10000} type veth peer name ja-jn0 netns ${NS}`);
    sh(`ip addr add 198.18.50.1/24 dev ja-jh${process.pid % 10000} && ip link set ja-jh${process.pid % 10000} up`);
    sh(`ip -n ${NS} addr add 198.18.50.2/24 dev ja-jn0 && ip -n ${NS} link set ja-jn0 up && ip -n ${NS} link set lo up`);
    cp = await startControlPlane({ host: '198.18.50.1', port: 19741, tokens: [TOKEN] });
  });
  after(async () => {
    await cp?.close();
    // deleting the namespace deletes the veth pair with it
    execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  });

  // the built binary runs inside the namespace; the control plane stays on the host side
  const run = async (): Promise<Result> => {
    const { root, cleanup } = tempRoot();
    try {
      const cfg = writeConfig(root, { endpoint: cp.endpoint, token: TOKEN, caCertHashes: [cp.caHash] });
      const r = await runCmd('ip', ['netns', 'exec', NS, BINARY, 'discover', '--config', cfg, '--root', root]);
      noSecret(r);
      return r;
    } finally {
      cleanup();
    }
  };

  test('reachable without the drop, "timed out ... filtered" with it', async () => {
    let r = await run();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    sh(`ip netns exec ${NS} nft add table inet ja_filter`);
    sh(`ip netns exec ${NS} nft "add chain inet ja_filter out { type filter hook output priority 0; policy accept; }"`);
    sh(`ip netns exec ${NS} nft add rule inet ja_filter out ip daddr 198.18.50.1 tcp dport 19741 drop`);
    r = await run();
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}tcp +connection to 198\.18\.50\.1:19741 timed out: the port is filtered \(packets dropped, no answer\)/);
    assert.match(r.stdout, /check firewalld on the control plane/);
    assert.doesNotMatch(r.stdout, /refused/);
  });
});
