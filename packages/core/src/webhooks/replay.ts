import { CustosError } from '../errors/index.js';

/**
 * Remembers which signed deliveries were accepted, so the same one is not accepted twice while
 * its timestamp is within the tolerance. Shared by every process that receives the webhooks
 * (Redis for several), or a replay to another process passes.
 */
export interface WebhookReplayStore {
  /**
   * Records `key` for `ttlSeconds`; `true` when it was not recorded yet. Must be atomic: of two
   * concurrent claims of one key, exactly one gets `true`.
   */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
}

/** Sweep expired entries once the map grows past this, so memory follows the traffic. */
const SWEEP_AT = 10_000;

/**
 * A replay store in this process's memory: for one process (tests, a single instance). Entries
 * expire with their window.
 *
 * @example
 * ```ts
 * const verifier = createWebhookVerifier({ secrets, replay: createMemoryWebhookReplayStore() });
 * ```
 */
export function createMemoryWebhookReplayStore(): WebhookReplayStore {
  const expiresAt = new Map<string, number>();
  let sweepAt = SWEEP_AT;
  return {
    async claim(key, ttlSeconds) {
      const now = Date.now();
      const until = expiresAt.get(key);
      if (until !== undefined && until > now) return false;
      expiresAt.set(key, now + ttlSeconds * 1000);
      if (expiresAt.size >= sweepAt) {
        for (const [k, t] of expiresAt) if (t <= now) expiresAt.delete(k);
        sweepAt = Math.max(SWEEP_AT, expiresAt.size * 2);
      }
      return true;
    },
  };
}

/**
 * The one command the Redis store uses, as an ioredis client (`new Redis(url)`) provides it.
 * Structural, so `@custos/core` needs no Redis package of its own.
 */
export interface WebhookRedisLike {
  set(key: string, value: string, mode: 'PX', milliseconds: number, flag: 'NX'): Promise<unknown>;
}

/** Options for {@link createRedisWebhookReplayStore}. */
export interface RedisWebhookReplayStoreOptions {
  /** Your ioredis client (5 or 6, or a cluster). custos never opens or closes the connection. */
  readonly redis: WebhookRedisLike;
  /** Prepended to every key (default `custos:webhooks:`); one per receiving endpoint. */
  readonly keyPrefix?: string;
}

/**
 * A replay store on Redis: `SET <prefix><key> 1 PX <ttl> NX`, atomic across processes, and
 * Redis expires each entry with its window.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const replay = createRedisWebhookReplayStore({ redis: new Redis(process.env.REDIS_URL ?? '') });
 * ```
 */
export function createRedisWebhookReplayStore(
  options: RedisWebhookReplayStoreOptions,
): WebhookReplayStore {
  const redis = options?.redis;
  const prefix = options.keyPrefix ?? 'custos:webhooks:';
  if (typeof redis?.set !== 'function') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'redis must be an ioredis client');
  }
  return {
    async claim(key, ttlSeconds) {
      const ttlMs = Math.max(1, Math.ceil(ttlSeconds * 1000));
      return (await redis.set(prefix + key, '1', 'PX', ttlMs, 'NX')) === 'OK';
    },
  };
}
