import { validateKeyName } from '@custos/core/internal/transit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenEntry } from '../auth/token-store.js';
import type { ServerContext } from '../context.js';

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

function isKeyName(name: unknown): boolean {
  try {
    validateKeyName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes transit requests to the keys' usage logs: who (the token's display name), what, whether
 * it worked, which request and version — never data, never a token accessor.
 *
 * @example
 * ```ts
 * const { logUsage, keyOperation } = createUsageRecorder(ctx);
 * app.post('/v1/transit/hmac/:name', keyOperation('hmac', handler));
 * ```
 */
export function createUsageRecorder(ctx: ServerContext) {
  const record = (
    request: FastifyRequest,
    name: string,
    operation: string,
    success: boolean,
    version?: unknown,
  ) => {
    const entry = request.custos.entry as TokenEntry | undefined;
    ctx.transitUsage.record(name, {
      operation,
      success,
      ...(typeof version === 'number' ? { version } : {}),
      display_name: entry?.displayName ?? '',
      request_id: request.id,
    });
  };

  return {
    /** Records each item's outcome (its `key_version` when it has one). */
    logUsage(
      request: FastifyRequest,
      name: string,
      operation: string,
      results: readonly Record<string, unknown>[],
    ): void {
      for (const result of results)
        record(request, name, operation, !('error' in result), result.key_version);
    },

    /**
     * Wraps the handler of an operation on key `:name` so that a failure before the per-item
     * results (a revoked key, a malformed request) is logged too, once, as a failed use. A name
     * that can never be a key, or a key that does not exist, gets no log.
     */
    keyOperation(operation: string | ((request: FastifyRequest) => string), handler: Handler) {
      return async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          return await handler(request, reply);
        } catch (err) {
          const { name } = request.params as { name?: string };
          // A key that does not exist has no log (its name's next key must not inherit one).
          if (isKeyName(name) && (await ctx.transit.exists(name as string).catch(() => false))) {
            const op = typeof operation === 'string' ? operation : operation(request);
            record(request, name as string, op, false);
          }
          throw err;
        }
      };
    },
  };
}
