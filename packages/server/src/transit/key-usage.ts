import { validateKeyName } from '@custos/core/internal/transit';
import type { TokenEntry } from '../auth/token-store.js';
import type { DeclaredRoute, RouteRequest } from '../http/route-spec.js';
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

/**
 * What {@link createUsageRecorder} needs for a request: whether a key exists, and the log to
 * write to (those of the transit mount the request names).
 */
export interface UsageRecorderDeps {
  readonly transit: Pick<TransitStore, 'exists'>;
  readonly usage: Pick<UsageLog, 'record'>;
}

/** The path parameters of a key operation's route. */
export type KeyOperationParams = Readonly<Record<string, string | undefined>>;

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
   * Wraps a route of an operation on key `:name` so that a failure before the per-item results
   * (a revoked key, a malformed request or field) is logged too, once, as a failed use. A name
   * that can never be a key, or a key that does not exist, gets no log. `operation` may be
   * named from the path parameters.
   */
  keyOperation(
    operation: string | ((params: KeyOperationParams) => string),
    declared: DeclaredRoute,
  ): DeclaredRoute;
}

/**
 * Writes transit requests to the keys' usage logs: who (the token's display name), what, whether
 * it worked, which request and version — never data, never a token accessor.
 *
 * @example
 * ```ts
 * const { logUsage, keyOperation } = createUsageRecorder(() => ({ transit, usage }));
 * const hmac = keyOperation('hmac', route({ method: 'POST', path, handler }));
 * ```
 */
export function createUsageRecorder(
  depsOf: (request: RouteRequest) => UsageRecorderDeps,
): UsageRecorder {
  const record = (
    request: RouteRequest,
    name: string,
    operation: string,
    success: boolean,
    version?: unknown,
  ) => {
    const entry = request.custos.entry as TokenEntry | undefined;
    depsOf(request).usage.record(name, {
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

    keyOperation(operation, declared) {
      const { handler } = declared;
      return {
        ...declared,
        // The declared fields are read inside: a malformed one is a failed use too.
        handler: async (request, reply) => {
          try {
            return await handler(request, reply);
          } catch (err) {
            const params = request.params as KeyOperationParams;
            const name: unknown = params.name;
            // A key that does not exist has no log (its name's next key must not inherit one).
            const { transit } = depsOf(request as RouteRequest);
            if (isKeyName(name) && (await transit.exists(name as string).catch(() => false))) {
              const op = typeof operation === 'string' ? operation : operation(params);
              record(request as RouteRequest, name as string, op, false);
            }
            throw err;
          }
        },
      };
    },
  };
}
