import { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';

/** A Redis client of either supported major version. */
export type AnyRedis = Redis | Redis6;

/**
 * The ioredis majors the optional peer range covers (5 and 6): the Redis-backed stores' contracts
 * run once on each.
 *
 * @example
 * ```ts
 * for (const [major, connect] of REDIS_CLIENTS) storeContract(`on ${major}`, () => connect(url));
 * ```
 */
export const REDIS_CLIENTS: ReadonlyArray<readonly [string, (url: string) => AnyRedis]> = [
  ['ioredis 5', (url) => new Redis(url)],
  ['ioredis 6', (url) => new Redis6(url)],
];
