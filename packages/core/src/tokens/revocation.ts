import { TokenRejected } from './errors.js';

/**
 * Where revoked token ids, revoked refresh families and used refresh tokens are recorded, each
 * until the moment the token would expire anyway. Three adapters ship: memory (one process),
 * Redis and SQL (several processes). Writing one for another database takes two methods.
 *
 * @example
 * ```ts
 * const tokens = createTokenService({ keys, issuer, audience, revocations: createMemoryRevocationStore() });
 * ```
 */
export interface RevocationStore {
  /**
   * Records `id` until `expiresAt`. Returns `true` when it was not recorded yet (or only as an
   * expired entry), `false` when it already was. It must be atomic (test-and-set): refresh
   * rotation relies on it to notice a refresh token presented twice, even by two processes.
   */
  add(id: string, expiresAt: Date): Promise<boolean>;
  /** Whether any of `ids` is recorded and not expired. */
  hasAny(ids: readonly string[]): Promise<boolean>;
}

/** A memory store with a way to count its entries, for tests and metrics. */
export interface MemoryRevocationStore extends RevocationStore {
  /** Entries not yet expired. */
  size(): number;
}

/**
 * An in-process revocation store. Correct for a single process only: with several server
 * processes use {@link createRedisRevocationStore} or {@link createSqlRevocationStore}.
 * Expired entries are swept as the map grows.
 *
 * @example
 * ```ts
 * const revocations = createMemoryRevocationStore();
 * ```
 */
export function createMemoryRevocationStore(): MemoryRevocationStore {
  const entries = new Map<string, number>();
  let sweepAt = 1024;
  const sweep = (now: number) => {
    for (const [id, expiresAt] of entries) if (expiresAt <= now) entries.delete(id);
    sweepAt = Math.max(1024, entries.size * 2);
  };
  return {
    async add(id, expiresAt) {
      const now = Date.now();
      const existing = entries.get(id);
      if (existing !== undefined && existing > now) return false;
      entries.set(id, expiresAt.getTime());
      if (entries.size >= sweepAt) sweep(now);
      return true;
    },
    async hasAny(ids) {
      const now = Date.now();
      return ids.some((id) => (entries.get(id) ?? 0) > now);
    },
    size() {
      sweep(Date.now());
      return entries.size;
    },
  };
}

/**
 * @internal Refuses claims whose `jti` or refresh family is revoked. The store ids are
 * `jti:<jti>` and `fam:<family id>` (and `used:<jti>` for spent refresh tokens).
 */
export async function assertNotRevoked(
  store: RevocationStore | undefined,
  claims: { readonly jti: string; readonly fam?: string },
  type: string,
): Promise<void> {
  if (store === undefined) return;
  const ids = [`jti:${claims.jti}`, ...(claims.fam === undefined ? [] : [`fam:${claims.fam}`])];
  if (await store.hasAny(ids)) {
    throw new TokenRejected('ERR_TOKEN_REVOKED', `the ${type} token has been revoked`);
  }
}
