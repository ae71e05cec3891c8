import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, test } from 'node:test';
import { EventBus } from '../../../src/engine/events.js';
import { StatusModel } from '../../../src/status/model.js';
import { startStatusServer } from '../../../src/status/server.js';
import { httpGet } from '../../helpers/binary.js';
import { debianFacts } from '../../helpers/fakes.js';

// Issue 17 item 12: the DNS-rebinding guard (a foreign Host header is refused) held only
// when the server was bound to a name in a fixed list: bound to 127.0.0.2 (or 0.0.0.0) it
// was off. Names are refused whatever the bind address; IP literals, localhost and this
// host's own name are not names an attacker's page can make a browser send.
const servers: http.Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function serve(address: string): Promise<void> {
  const model = new StatusModel(new EventBus(), debianFacts, { version: '1', commit: 'c', pid: 1, startedAt: 'now', config: '/c.yaml' });
  servers.push(await startStatusServer({ address, model }));
}

function get(ip: string, port: number, host: string): Promise<number> {
  return httpGet(port, '/status', { host, connectTo: ip }).then((r) => r.status);
}

test('a foreign Host is refused whatever loopback address the server is bound to', async () => {
  for (const [ip, port] of [['127.0.0.1', 19761], ['127.0.0.2', 19762]] as const) {
    await serve(`${ip}:${port}`);
    assert.equal(await get(ip, port, 'attacker.example'), 421, `${ip}: attacker.example`);
    assert.equal(await get(ip, port, `attacker.example:${port}`), 421, `${ip}: attacker.example:PORT`);
    assert.equal(await get(ip, port, `${ip}:${port}`), 200, `${ip}: its own address`);
    assert.equal(await get(ip, port, 'localhost'), 200, `${ip}: localhost`);
  }
});

test('bound to every address: names are still refused, IP literals answered', async () => {
  await serve('0.0.0.0:19763');
  assert.equal(await get('127.0.0.1', 19763, 'rebind.attacker.example'), 421);
  assert.equal(await get('127.0.0.1', 19763, '192.168.10.101:19763'), 200);
});
