/**
 * A TCP proxy for fault tests: forwards to a real service (PostgreSQL) and can cut the line, or
 * freeze some connections, without touching the service other tests use.
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
  /**
   * Stops forwarding, both ways and without closing anything, on the connections whose first
   * bytes from the client (PostgreSQL's startup message: user, database, `application_name`)
   * contain `marker`, open or opened later: what each side sends is held, as on a partitioned
   * network or behind a paused host, until `thaw` delivers it in order.
   */
  freeze(marker: string): void;
  thaw(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port in front of `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: CutMode | undefined;
  let frozenMarker: string | undefined;
  const open = new Set<Socket>();
  /** Each forwarded connection: its client's first bytes, and what is held while frozen. */
  const lines = new Set<{ first?: Buffer; held: { to: Socket; data: Buffer }[] }>();
  const frozen = (line: { first?: Buffer }) =>
    frozenMarker !== undefined && line.first?.includes(frozenMarker) === true;
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
    const line: { first?: Buffer; held: { to: Socket; data: Buffer }[] } = { held: [] };
    lines.add(line);
    const forward = (to: Socket) => (data: Buffer) => {
      if (frozen(line) || line.held.length > 0) line.held.push({ to, data });
      else to.write(data);
    };
    const toUpstream = forward(upstream);
    client.on('data', (data: Buffer) => {
      line.first ??= data;
      toUpstream(data);
    });
    upstream.on('data', forward(client));
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => {
      lines.delete(line);
      client.destroy();
    });
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
    freeze(marker) {
      frozenMarker = marker;
    },
    thaw() {
      frozenMarker = undefined;
      for (const line of lines) {
        for (const { to, data } of line.held.splice(0)) if (!to.destroyed) to.write(data);
      }
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
