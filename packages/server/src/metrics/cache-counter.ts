/**
 * Counts the lookups of one cache: a server cache is given one (`registerCache` of the server's
 * metrics) and calls it on every lookup; without one it counts nothing.
 *
 * @example
 * ```ts
 * const counter = metrics.registerCache('policy');
 * cached === undefined ? counter.miss() : counter.hit();
 * ```
 */
export interface CacheCounter {
  hit(): void;
  miss(): void;
}
