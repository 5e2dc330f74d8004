import type { FastifyInstance } from 'fastify';

/**
 * Closes the HTTP side of a server gracefully: it stops accepting connections at once (new
 * ones are refused), closes idle keep-alive connections, answers 503 to a new request on a
 * connection still open, and waits for the requests in flight to finish. After `graceMs` the
 * connections still open are destroyed, so a stuck client cannot hold the shutdown forever.
 * Resolves true when every request in flight finished within the bound, false when some were
 * cut off.
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
  try {
    await app.close();
  } finally {
    clearTimeout(bound);
  }
  return drained;
}
