import net from 'node:net';

export type ProxyMode = 'pass' | 'down' | { slowMs: number };

export interface FaultProxy {
  address: string;
  setMode(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

// A TCP proxy in front of a service (the registry, the API server) that the test can take
// down (connection refused, as a stopped service) or slow down (every chunk the service
// sends back waits slowMs, as a congested link or an overloaded registry).
export async function startFaultProxy(host: string, port: number, target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: ProxyMode = 'pass';
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (typeof mode !== 'object') return void client.write(chunk);
      upstream.pause();
      setTimeout(() => {
        client.write(chunk);
        upstream.resume();
      }, mode.slowMs);
    });
    upstream.on('end', () => setTimeout(() => client.end(), typeof mode === 'object' ? mode.slowMs : 0));
  });
  const listen = (): Promise<void> => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const stop = (): Promise<void> => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  await listen();
  return {
    address: `${host}:${port}`,
    async setMode(m) {
      if (m === 'down' && server.listening) await stop();
      if (m !== 'down' && !server.listening) await listen();
      mode = m;
    },
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
