import { validateKeyName } from '@custos/core/internal/transit';
import type { FastifyReply } from 'fastify';
import type { TokenEntry } from '../auth/token-store.js';
import type { RouteHandler, RouteRequest } from '../http/route-spec.js';
import type { TransitStore } from './transit-store.js';
import type { UsageLog } from './usage-log.js';

function isKeyName(name: unknown): boolean {
  try {
    validateKeyName(name);
    return true;
  } catch {
    return false;
  }
}

/** What {@link createUsageRecorder} needs: whether a key exists, and the log to write to. */
export interface UsageRecorderDeps {
  readonly transit: Pick<TransitStore, 'exists'>;
  readonly usage: Pick<UsageLog, 'record'>;
}

/** Writes transit requests to the keys' usage logs (see {@link createUsageRecorder}). */
export interface UsageRecorder {
  /** Records each item's outcome (its `key_version` when it has one). */
  logUsage(
    request: RouteRequest,
    name: string,
    operation: string,
    results: readonly Record<string, unknown>[],
  ): void;
  /**
   * Wraps the handler of an operation on key `:name` so that a failure before the per-item
   * results (a revoked key, a malformed request) is logged too, once, as a failed use. A name
   * that can never be a key, or a key that does not exist, gets no log.
   */
  keyOperation<P extends string>(
    operation: string | ((request: RouteRequest<P>) => string),
    handler: RouteHandler<P>,
  ): RouteHandler<P>;
}

/**
 * Writes transit requests to the keys' usage logs: who (the token's display name), what, whether
 * it worked, which request and version — never data, never a token accessor.
 *
 * @example
 * ```ts
 * const { logUsage, keyOperation } = createUsageRecorder({ transit, usage });
 * const handler = keyOperation('hmac', async (request, reply) => { ... });
 * ```
 */
export function createUsageRecorder({ transit, usage }: UsageRecorderDeps): UsageRecorder {
  const record = (
    request: RouteRequest,
    name: string,
    operation: string,
    success: boolean,
    version?: unknown,
  ) => {
    const entry = request.custos.entry as TokenEntry | undefined;
    usage.record(name, {
      operation,
      success,
      ...(typeof version === 'number' ? { version } : {}),
      display_name: entry?.displayName ?? '',
      request_id: request.id,
    });
  };

  return {
    logUsage(request, name, operation, results) {
      for (const result of results)
        record(request, name, operation, !('error' in result), result.key_version);
    },

    keyOperation<P extends string>(
      operation: string | ((request: RouteRequest<P>) => string),
      handler: RouteHandler<P>,
    ): RouteHandler<P> {
      return async (request: RouteRequest<P>, reply: FastifyReply) => {
        try {
          return await handler(request, reply);
        } catch (err) {
          const name: unknown = (request.params as { readonly name?: string }).name;
          // A key that does not exist has no log (its name's next key must not inherit one).
          if (isKeyName(name) && (await transit.exists(name as string).catch(() => false))) {
            const op = typeof operation === 'string' ? operation : operation(request);
            record(request as RouteRequest, name as string, op, false);
          }
          throw err;
        }
      };
    },
  };
}
