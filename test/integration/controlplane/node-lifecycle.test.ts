import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane, type NodeObject } from '../../fixtures/controlplane.js';
import { call } from './client.js';

// The node lifecycle controller's view: a Node whose kubelet stopped posting status for
// the grace period reads Ready=Unknown (NodeStatusUnknown), as kubectl and the agent see it.
const node = (name: string, heartbeat: Date): NodeObject => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: {},
  status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: heartbeat.toISOString() } as never] },
});

describe('simulated control plane: node lifecycle (grace period)', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ nodeMonitorGracePeriodMs: 40_000 });
  });
  after(() => cp.close());
  const ready = async (name: string): Promise<{ status: string; reason?: string; message?: string }> => {
    const r = await call(cp, 'GET', `/api/v1/nodes/${name}`, { cert: cp.issueAdminCert() });
    assert.equal(r.code, 200);
    return ((r.body.status as NodeObject['status']).conditions ?? []).find((c) => c.type === 'Ready')!;
  };

  test('a heartbeat within the grace period: Ready as the kubelet posted it', async () => {
    cp.nodes.set('fresh', node('fresh', new Date(Date.now() - 10_000)));
    assert.equal((await ready('fresh')).status, 'True');
  });

  test('sabotage: no heartbeat for longer: Unknown, "Kubelet stopped posting node status."', async () => {
    cp.nodes.set('silent', node('silent', new Date(Date.now() - 60_000)));
    assert.deepEqual(await ready('silent').then((c) => [c.status, c.reason, c.message]), ['Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.']);
    assert.equal(cp.nodes.get('silent')!.status.conditions![0].status, 'True', 'the stored status is the kubelet\'s; the view is the controller\'s');
  });

  test('off unless a grace period is given: an old heartbeat reads as written', async () => {
    cp.options.nodeMonitorGracePeriodMs = undefined;
    try {
      assert.equal((await ready('silent')).status, 'True');
    } finally {
      cp.options.nodeMonitorGracePeriodMs = 40_000;
    }
  });
});
