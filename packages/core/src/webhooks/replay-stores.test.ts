import { randomBytes } from 'node:crypto';
import { REDIS_URL, requireService, uniqueName } from '@custos/test-support/services';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_CLIENTS } from '../../test/redis-clients.js';
import {
  createMemoryWebhookReplayStore,
  createRedisWebhookReplayStore,
  createWebhookSigner,
  createWebhookVerifier,
  type WebhookReplayStore,
} from './index.js';

const redisUp = await requireService('redis');

/** The behaviour every replay store must have, on a real backend. */
function storeContract(
  name: string,
  open: () => { store: WebhookReplayStore; close(): Promise<void> },
) {
  describe(name, () => {
    const { store, close } = open();
    afterAll(close);

    it('claims a key once; other keys are independent', async () => {
      expect(await store.claim('evt_1.1764763200', 60)).toBe(true);
      expect(await store.claim('evt_1.1764763200', 60)).toBe(false);
      expect(await store.claim('evt_1.1764763201', 60)).toBe(true);
      expect(await store.claim('evt_2.1764763200', 60)).toBe(true);
    });

    it('of concurrent claims of one key, exactly one wins', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => store.claim('race', 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('forgets a key when its ttl has passed', async () => {
      expect(await store.claim('short', 1)).toBe(true);
      expect(await store.claim('short', 1)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await store.claim('short', 1)).toBe(true);
    });
  });
}

storeContract('memory replay store', () => ({
  store: createMemoryWebhookReplayStore(),
  close: async () => {},
}));

// The peer range covers ioredis 5 and 6: the same contract runs on both clients.
describe.runIf(redisUp)('on Redis', () => {
  for (const [major, connect] of REDIS_CLIENTS) {
    storeContract(`Redis replay store (${major})`, () => {
      const redis = connect(REDIS_URL);
      const keyPrefix = `${uniqueName('webhooks')}:`;
      return {
        store: createRedisWebhookReplayStore({ redis, keyPrefix }),
        async close() {
          const keys = await redis.keys(`${keyPrefix}*`);
          if (keys.length > 0) await redis.del(...keys);
          await redis.quit();
        },
      };
    });
  }

  it('two receiving processes sharing Redis accept a delivery once, and set a ttl covering the window', async () => {
    const redis = new Redis(REDIS_URL);
    const keyPrefix = `${uniqueName('webhooks')}:`;
    try {
      const secret = randomBytes(32);
      const [a, b] = [1, 2].map(() =>
        createWebhookVerifier({
          secrets: secret,
          toleranceSeconds: 300,
          replay: createRedisWebhookReplayStore({ redis, keyPrefix }),
        }),
      ) as [ReturnType<typeof createWebhookVerifier>, ReturnType<typeof createWebhookVerifier>];
      const body = '{"type":"ping"}';
      const signed = createWebhookSigner({ secrets: secret }).sign({ body, id: 'evt_shared' });
      await expect(a.verify({ header: signed.header, body })).resolves.toMatchObject({
        id: 'evt_shared',
      });
      await expect(b.verify({ header: signed.header, body })).rejects.toMatchObject({
        code: 'ERR_WEBHOOK_REPLAYED',
      });
      const key = `${keyPrefix}evt_shared.${signed.timestamp.getTime() / 1000}`;
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(302_000);
    } finally {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});

describe('createRedisWebhookReplayStore', () => {
  it('refuses something that is not an ioredis client', () => {
    expect(() => createRedisWebhookReplayStore({ redis: {} as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
