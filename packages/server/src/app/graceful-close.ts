import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** What {@link closeGracefully} knows of a server's connections. */
interface ConnectionState {
  /** The connections that have not sent a request yet. */
  readonly unused: Set<Socket>;
  closing: boolean;
}

const stateByServer = new WeakMap<Server, ConnectionState>();

/**
 * Keeps track of the connections of `server` so that {@link closeGracefully} does not wait for
 * connections that will never carry a request in flight. Node's `closeIdleConnections` (run
 * once when the close starts) leaves open a connection that has not sent a request yet (an
 * HTTP client leaves one in its pool when the request it was opened for is aborted while
 * connecting) and a keep-alive connection whose request finishes during the close: the close
 * would wait for them until the grace ends. Call once, before the server listens.
 *
 * @example
 * ```ts
 * trackConnections(app.server);
 * ```
 */
export function trackConnections(server: Server): void {
  const state: ConnectionState = { unused: new Set(), closing: false };
  stateByServer.set(server, state);
  // Over TLS the request's socket is the TLS one: track that one rather than the TCP socket.
  const tls = 'setSecureContext' in server;
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    state.unused.add(socket);
    socket.once('close', () => state.unused.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    state.unused.delete(request.socket);
    response.once('finish', () => {
      // The connection is idle once the answer is out: close it rather than keep it alive.
      if (state.closing) setImmediate(() => server.closeIdleConnections());
    });
  });
}

/**
 * Marks a connection of `server` as used although no `request` event names it: the LIST
 * method's adoption (http/list-method.ts) serves its requests through a proxy stream.
 *
 * @example
 * ```ts
 * if (adoptListRequest(server, error, socket)) markConnectionUsed(server, socket);
 * ```
 */
export function markConnectionUsed(server: Server, socket: object): void {
  stateByServer.get(server)?.unused.delete(socket as Socket);
}

/**
 * Closes the HTTP side of a server gracefully: it stops accepting connections at once (new
 * ones are refused), closes idle keep-alive connections and (when {@link trackConnections} was
 * called) connections that never sent a request and each connection whose request finishes
 * meanwhile, answers 503 to a new request on a connection still open, and waits for the
 * requests in flight to finish. After `graceMs` the connections still open are destroyed, so a
 * stuck client cannot hold the shutdown forever. Resolves true when every request in flight
 * finished within the bound, false when some were cut off.
 *
 * @example
 * ```ts
 * const drained = await closeGracefully(app, 30_000);
 * ```
 */
export async function closeGracefully(app: FastifyInstance, graceMs: number): Promise<boolean> {
  let drained = true;
  const bound = setTimeout(() => {
    drained = false;
    app.server.closeAllConnections();
  }, graceMs);
  const state = stateByServer.get(app.server);
  try {
    const closing = app.close();
    if (state !== undefined) {
      state.closing = true;
      // After close started: a connection accepted since is refused by the closed listener.
      for (const socket of state.unused) socket.destroy();
    }
    await closing;
  } finally {
    clearTimeout(bound);
  }
  return drained;
}
