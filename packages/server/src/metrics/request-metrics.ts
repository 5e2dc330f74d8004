import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from './server-metrics.js';

/** The route group label of a request no route matched (404s, malformed targets). */
export const UNMATCHED_GROUP = 'unmatched';

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
    const group = request.routeOptions.config?.group ?? UNMATCHED_GROUP;
    metrics.request(group, request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
}
