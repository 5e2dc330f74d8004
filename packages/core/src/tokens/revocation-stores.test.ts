import {
  openTestDatabase,
  type TestDatabase,
  testDatabaseKinds,
} from '@custos/test-support/kysely';
import { REDIS_URL, requireService, uniqueName } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REDIS_CLIENTS } from '../../test/redis-clients.js';
import {
  createMemoryRevocationStore,
  createRedisRevocationStore,
  createSqlRevocationStore,
  createTokenService,
  JwtKeyset,
  type RevocationStore,
} from './index.js';

const redisUp = await requireService('redis');
const databaseKinds = await testDatabaseKinds();

const inAMinute = () => new Date(Date.now() + 60_000);
const aSecondAgo = () => new Date(Date.now() - 1000);

/** The behaviour every store must have, on a real backend. */
function storeContract(
  name: string,
  open: () => Promise<{ store: RevocationStore; close(): Promise<void> }>,
) {
  describe(name, () => {
    let store: RevocationStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await open());
    });
    afterAll(() => close());

    it('adds once (test-and-set) and reports what it holds', async () => {
      expect(await store.add('jti:a', inAMinute())).toBe(true);
      expect(await store.add('jti:a', inAMinute())).toBe(false);
      expect(await store.hasAny(['jti:a'])).toBe(true);
      expect(await store.hasAny(['jti:zz', 'jti:a'])).toBe(true);
      expect(await store.hasAny(['jti:zz', 'fam:zz'])).toBe(false);
      expect(await store.hasAny([])).toBe(false);
    });

    it('forgets entries once their token would have expired', async () => {
      expect(await store.add('jti:old', aSecondAgo())).toBe(true);
      // Redis keeps an already-past entry for 1 ms: wait until it is gone, not for a fixed time.
      await vi.waitFor(async () => expect(await store.hasAny(['jti:old'])).toBe(false));
      expect(await store.add('jti:old', inAMinute())).toBe(true);
      expect(await store.hasAny(['jti:old'])).toBe(true);
    });

    it('lets exactly one of many concurrent adds win', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.add('used:race', inAMinute())),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('backs refresh rotation: reuse revokes the family across two service instances', async () => {
      const keys = await JwtKeyset.generate('HS256');
      const options = { keys, issuer: 'iss', audience: 'aud', revocations: store };
      const nodeA = createTokenService(options);
      const nodeB = createTokenService(options);
      const pair = await nodeA.issueTokenPair({ subject: 'u1' });
      const next = await nodeA.refresh(pair.refreshToken);
      await expect(nodeB.refresh(pair.refreshToken)).rejects.toMatchObject({
        code: 'ERR_TOKEN_REUSED',
      });
      await expect(nodeA.verifyAccessToken(next.accessToken)).rejects.toMatchObject({
        code: 'ERR_TOKEN_REVOKED',
      });
      const lone = await nodeB.signAccessToken({ subject: 'u2' });
      await nodeA.revokeToken(lone.token);
      await expect(nodeB.verifyAccessToken(lone.token)).rejects.toMatchObject({
        code: 'ERR_TOKEN_REVOKED',
      });
    });
  });
}

storeContract('memory revocation store', async () => ({
  store: createMemoryRevocationStore(),
  close: async () => {},
}));

// The peer range covers ioredis 5 and 6: the same contract runs on both clients.
describe.runIf(redisUp)('on Redis', () => {
  for (const [major, connect] of REDIS_CLIENTS) {
    storeContract(`Redis revocation store (${major})`, async () => {
      const redis = connect(REDIS_URL);
      const keyPrefix = `${uniqueName('tokens')}:`;
      return {
        store: createRedisRevocationStore({ redis, keyPrefix }),
        async close() {
          const keys = await redis.keys(`${keyPrefix}*`);
          if (keys.length > 0) await redis.del(...keys);
          await redis.quit();
        },
      };
    });
  }
});

for (const kind of databaseKinds) {
  storeContract(`SQL revocation store on ${kind}`, async () => {
    const database: TestDatabase = await openTestDatabase(kind, 'revocations');
    const store = createSqlRevocationStore({ db: database.db });
    await store.createTable();
    await store.createTable(); // idempotent
    return { store, close: () => database.close() };
  });
}

describe('SQL revocation store housekeeping', () => {
  it('deletes expired rows and refuses odd table names', async () => {
    const database = await openTestDatabase('sqlite', 'revocations');
    const store = createSqlRevocationStore({ db: database.db, tableName: 'revoked' });
    await store.createTable();
    await store.add('a', aSecondAgo());
    await store.add('b', inAMinute());
    expect(await store.deleteExpired()).toBe(1);
    expect(await store.hasAny(['b'])).toBe(true);
    await database.close();
    expect(() =>
      createSqlRevocationStore({ db: database.db, tableName: 'x; drop table y' }),
    ).toThrow(/lowercase SQL identifier/);
  });
});
