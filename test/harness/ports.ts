// Free TCP ports on the loopback interface, chosen by the kernel.
import net from 'node:net';

function listenOnLoopback(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// Returns `count` distinct ports that were free on 127.0.0.1 a moment ago.
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  // hold all listeners open together so the kernel cannot hand out the same port twice
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnLoopback());
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
