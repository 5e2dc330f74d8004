/**
 * How long a token may live: the bounds applied when a token is created and when it renews.
 * Pure functions of the clock and the entries involved; the token store supplies both.
 * The invariants they keep are listed in `NOTES.md`.
 */

/** Vault's defaults: 768 h (32 days) default and maximum TTL for service tokens. */
export const DEFAULT_TOKEN_TTL_SECONDS = 768 * 3600;
export const MAX_TOKEN_TTL_SECONDS = 768 * 3600;

/** The time fields of a token entry (Unix seconds; 0 = never). */
export interface Lifetime {
  /** Unix seconds, floored. */
  readonly creationTime: number;
  /** Seconds granted at creation (0 = no expiry, root tokens only). */
  readonly creationTtl: number;
  readonly expireTime: number;
  /** Unix seconds after which renewal cannot extend the token; 0 = never expires. */
  readonly maxExpireTime: number;
  readonly renewable: boolean;
  /**
   * A periodic token's period (seconds, at most 768 h): every renewal sets its expiry to one
   * period from then, and only an explicit maximum or its parent bounds its life (Vault's
   * periodic tokens). Absent or 0 for other tokens.
   */
  readonly period?: number;
}

/** What a creation asks for. */
export interface LifetimeRequest {
  readonly ttlSeconds?: number | undefined;
  readonly explicitMaxTtlSeconds?: number | undefined;
  readonly renewable?: boolean | undefined;
  /** A period (seconds): the token is periodic (`ttlSeconds` is then ignored, as in Vault). */
  readonly periodSeconds?: number | undefined;
  /** Root tokens alone may never expire. */
  readonly isRoot: boolean;
}

const NEVER = Number.POSITIVE_INFINITY;
const orNever = (time: number) => (time === 0 ? NEVER : time);

/**
 * The last moment `entry` can ever be alive: its maximum, or its expiry if it cannot renew.
 * Entries written before explicit maxima were capped may carry one beyond the system maximum;
 * that maximum, counted from creation, binds them too (`creationTime` is floored, hence + 1).
 */
export function hardLimitOf(entry: Lifetime): number {
  if (entry.expireTime === 0) return NEVER;
  if (!entry.renewable) return entry.expireTime;
  if ((entry.period ?? 0) > 0) return orNever(entry.maxExpireTime);
  return Math.min(orNever(entry.maxExpireTime), entry.creationTime + 1 + MAX_TOKEN_TTL_SECONDS);
}

/**
 * The lifetime of a new token created at `at` (exact Unix seconds). `parent` is the live parent
 * entry, or undefined for orphans. Every TTL and maximum is capped by the system maximum, an
 * explicit maximum, and the parent's expiry and hard limit; a child of a parent that cannot
 * renew cannot renew either.
 *
 * @example
 * ```ts
 * initialLifetime({ ttlSeconds: 3600, isRoot: false }, now, parent).expireTime;
 * ```
 */
export function initialLifetime(
  request: LifetimeRequest,
  at: number,
  parent: Lifetime | undefined,
): Lifetime {
  const creationTime = Math.floor(at);
  const requested = request.ttlSeconds ?? 0;
  const explicitMax = request.explicitMaxTtlSeconds ?? 0;
  const period = Math.min(request.periodSeconds ?? 0, MAX_TOKEN_TTL_SECONDS);
  const parentExpires = parent !== undefined && parent.expireTime !== 0;
  const parentRenews = !parentExpires || parent.renewable;
  if (period > 0) {
    // Periodic: no system maximum, only an explicit one and the parent's limits.
    const limit = Math.min(
      explicitMax > 0 ? at + Math.min(explicitMax, MAX_TOKEN_TTL_SECONDS) : NEVER,
      parent === undefined ? NEVER : hardLimitOf(parent),
    );
    const expireTime = Math.min(
      at + period,
      limit,
      parent === undefined ? NEVER : orNever(parent.expireTime),
    );
    return {
      creationTime,
      creationTtl: Math.round(expireTime - at),
      expireTime,
      maxExpireTime: limit === NEVER ? 0 : limit,
      renewable: parentRenews,
      period,
    };
  }
  if (request.isRoot && requested === 0 && explicitMax === 0 && !parentExpires) {
    return { creationTime, creationTtl: 0, expireTime: 0, maxExpireTime: 0, renewable: false };
  }
  // Expiry is computed from the exact time: flooring it would cut up to a second off every TTL.
  const maxExpireTime = Math.min(
    at + MAX_TOKEN_TTL_SECONDS,
    explicitMax > 0 ? at + explicitMax : NEVER,
    parent === undefined ? NEVER : hardLimitOf(parent),
  );
  const expireTime = Math.min(
    at + (requested > 0 ? requested : DEFAULT_TOKEN_TTL_SECONDS),
    maxExpireTime,
    parent === undefined ? NEVER : orNever(parent.expireTime),
  );
  return {
    creationTime,
    creationTtl: Math.round(expireTime - at),
    expireTime,
    maxExpireTime,
    renewable: (request.renewable ?? true) && parentRenews,
  };
}

/**
 * The expiry after renewing `entry` at `at` by `incrementSeconds` (default: its creation TTL;
 * a periodic token always renews by its period): never past its own hard limit, nor past its
 * parent's current expiry.
 *
 * @example
 * ```ts
 * renewedExpiry(entry, now, 3600, parent);
 * ```
 */
export function renewedExpiry(
  entry: Lifetime,
  at: number,
  incrementSeconds: number | undefined,
  parent: Lifetime | undefined,
): number {
  const period = entry.period ?? 0;
  const increment =
    period > 0
      ? period
      : incrementSeconds !== undefined && incrementSeconds > 0
        ? incrementSeconds
        : entry.creationTtl || DEFAULT_TOKEN_TTL_SECONDS;
  return Math.min(
    at + increment,
    hardLimitOf(entry),
    parent === undefined ? NEVER : orNever(parent.expireTime),
  );
}

/** Seconds until `entry` expires (0 for tokens that never do). */
export function remainingTtl(entry: Pick<Lifetime, 'expireTime'>, nowSeconds: number): number {
  return entry.expireTime === 0 ? 0 : Math.max(0, Math.floor(entry.expireTime - nowSeconds));
}
