import { TokenRejected } from '../tokens/errors.js';
import { jwtFailureReason, type MetricsHooks } from './hooks.js';

/**
 * Runs a token verification, telling `metrics` why it refused the token when it did. Without
 * hooks, runs it as is.
 *
 * @example
 * ```ts
 * const claims = await countRejections(options.metrics, () => verify('access', token));
 * ```
 */
export async function countRejections<T>(
  metrics: MetricsHooks | undefined,
  verify: () => Promise<T>,
): Promise<T> {
  if (metrics === undefined) return verify();
  try {
    return await verify();
  } catch (err) {
    if (err instanceof TokenRejected) metrics.jwtVerificationFailed(jwtFailureReason(err.code));
    throw err;
  }
}
