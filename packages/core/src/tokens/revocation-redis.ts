import { CustosError } from '../errors/index.js';
import type { RevocationStore } from './revocation.js';

/**
 * The two commands the Redis store uses, as an ioredis client (`new Redis(url)`) provides them.
 * Structural, so `@custos/core` needs no Redis package of its own.
 */
export interface RedisClientLike {
  set(key: string, value: string, mode: 'PX', milliseconds: number, flag: 'NX'): Promise<unknown>;
  exists(...keys: string[]): Promise<number>;
}

/** Options for {@link createRedisRevocationStore}. */
export interface RedisRevocationStoreOptions {
  /** Your ioredis client (or cluster). custos never opens or closes the connection. */
  readonly redis: RedisClientLike;
  /**
   * Prepended to every key (default `custos:tokens:`). On Redis Cluster, put a hash tag in it
   * (`{custos-tokens}:`) so the several ids of one check land in one slot.
   */
  readonly keyPrefix?: string;
}

/**
 * A revocation store on Redis: one key per entry, `SET … PX <ttl> NX`, so Redis expires the
 * entry with the token and the test-and-set is atomic across processes.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * const revocations = createRedisRevocationStore({ redis: new Redis(process.env.REDIS_URL) });
 * ```
 */
export function createRedisRevocationStore(options: RedisRevocationStoreOptions): RevocationStore {
  const { redis } = options;
  const prefix = options.keyPrefix ?? 'custos:tokens:';
  if (typeof redis?.set !== 'function' || typeof redis.exists !== 'function') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'redis must be an ioredis client');
  }
  return {
    async add(id, expiresAt) {
      // At least 1 ms: Redis refuses PX 0, and a past expiry must still read as "was set".
      const ttlMs = Math.max(1, Math.ceil(expiresAt.getTime() - Date.now()));
      return (await redis.set(prefix + id, '1', 'PX', ttlMs, 'NX')) === 'OK';
    },
    async hasAny(ids) {
      if (ids.length === 0) return false;
      return (await redis.exists(...ids.map((id) => prefix + id))) > 0;
    },
  };
}
