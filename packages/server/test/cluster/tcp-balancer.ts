/**
 * A round-robin TCP load balancer for soak tests (node:net): each client connection is piped
 * whole to the next node in turn, as HAProxy or nginx `stream` do in TCP mode. Keep-alive
 * clients keep their node for the life of their connection; new connections spread evenly.
 * (For a balancer that retries a request on another node, see `round-robin-balancer.ts`.)
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpBalancer {
  readonly url: string;
  /** Connections handed to each node so far, in the order of `targets`. */
  readonly connections: () => readonly number[];
  close(): Promise<void>;
}

/** Starts a balancer on a free loopback port in front of `targets` (`http://host:port`). */
export async function startTcpBalancer(targets: readonly string[]): Promise<TcpBalancer> {
  let next = 0;
  const counts = targets.map(() => 0);
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  const server = createServer((client) => {
    const index = next++ % targets.length;
    counts[index] = (counts[index] ?? 0) + 1;
    const { hostname, port } = new URL(targets[index] as string);
    const upstream = connect({ host: hostname, port: Number(port) });
    track(client);
    track(upstream);
    // Either side failing or closing ends the other: the client sees what it would see from
    // the node directly.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('balancer has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    connections: () => [...counts],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
