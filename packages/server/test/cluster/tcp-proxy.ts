/**
 * A TCP proxy for fault tests: forwards to a real service (PostgreSQL) and can cut the line
 * without touching the service other tests use.
 */
import { connect, createServer, type Socket } from 'node:net';

/** What the proxy does with connections while cut. */
export type CutMode =
  /** New connections are closed at once (as a stopped server's port refusing). */
  | 'refuse'
  /** New connections are accepted and never answered (a hung host or a dropped route). */
  | 'blackhole';

export interface TcpProxy {
  readonly port: number;
  /** Breaks every open connection and handles new ones as `mode` says until `restore`. */
  cut(mode: CutMode): void;
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port in front of `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: CutMode | undefined;
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    if (mode === 'blackhole') return; // held open, never answered
    const upstream = connect(target);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    cut(next) {
      mode = next;
      for (const socket of open) socket.destroy();
    },
    restore() {
      mode = undefined;
      // Connections held by a blackhole never reached the target: drop them.
      for (const socket of open) if (socket.readableFlowing !== true) socket.destroy();
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
