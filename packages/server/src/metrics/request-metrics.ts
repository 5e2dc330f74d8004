import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerMetrics } from './server-metrics.js';

/** The route group label of a request no route matched (404s, malformed targets). */
export const UNMATCHED_GROUP = 'unmatched';

/**
 * The route group that served a request, its metrics label: the matched route's group, or
 * that of the route the boundary served instead (the mount catch-all's when the matched
 * route's engine does not serve the mount; the route matched again under a mount of several
 * segments), or {@link UNMATCHED_GROUP}.
 *
 * @example
 * ```ts
 * metrics.permissionDenied(groupOf(request));
 * ```
 */
export function groupOf(request: FastifyRequest): string {
  return request.custos?.group ?? request.routeOptions.config?.group ?? UNMATCHED_GROUP;
}

/**
 * Counts every answered request by its route group's name (never its path: a path carries
 * names callers choose, a secret's path among them), method and status, and its latency.
 *
 * @example
 * ```ts
 * registerRequestMetrics(app, metrics);
 * ```
 */
export function registerRequestMetrics(
  app: FastifyInstance,
  metrics: Pick<ServerMetrics, 'request'>,
): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.request(groupOf(request), request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
}
