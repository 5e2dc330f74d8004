import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../test/harness.js';
import { ITEMS_PER_TURN, MAX_BATCH_ITEMS, runItems } from './batch.js';
import { MAX_NEW_VERSIONS_PER_REQUEST, MIN_ROTATE_AFTER_ENCRYPTIONS } from './transit-store.js';

const item = { plaintext: Buffer.from('x').toString('base64') };
const batchOf = (n: number, fields: Record<string, unknown> = item) =>
  Array.from({ length: n }, () => fields);
const TOO_SMALL = `rotate_after_encryptions must be at least ${MIN_ROTATE_AFTER_ENCRYPTIONS} on this server (each version costs a storage entry; a smaller limit makes that cost dominate)`;

describe('the state one transit request can create is bounded', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await s.close();
  });

  it(`refuses rotate_after_encryptions below ${MIN_ROTATE_AFTER_ENCRYPTIONS} at creation, in config and in a restored backup`, async () => {
    expect(
      await s.request('POST', 'transit/keys/rot1', { body: { rotate_after_encryptions: 1 } }),
    ).toMatchObject({ status: 400, body: { errors: [TOO_SMALL] } });
    expect((await s.request('GET', 'transit/keys/rot1')).status).toBe(404);

    const created = await s.request('POST', 'transit/keys/rot1000', {
      body: {
        rotate_after_encryptions: MIN_ROTATE_AFTER_ENCRYPTIONS,
        exportable: true,
        allow_plaintext_backup: true,
      },
    });
    expect(created.body.data.rotate_after_encryptions).toBe(MIN_ROTATE_AFTER_ENCRYPTIONS);
    expect(
      await s.request('POST', 'transit/keys/rot1000/config', {
        body: { rotate_after_encryptions: MIN_ROTATE_AFTER_ENCRYPTIONS - 1 },
      }),
    ).toMatchObject({ status: 400, body: { errors: [TOO_SMALL] } });

    const backup = (await s.request('GET', 'transit/backup/rot1000')).body.data.backup as string;
    const decoded = JSON.parse(Buffer.from(backup, 'base64').toString());
    decoded.policy.rotate_after_encryptions = 1;
    const lowered = Buffer.from(JSON.stringify(decoded)).toString('base64');
    expect(
      await s.request('POST', 'transit/restore/rot-restored', { body: { backup: lowered } }),
    ).toMatchObject({ status: 400, body: { errors: [TOO_SMALL] } });
    expect((await s.request('GET', 'transit/keys/rot-restored')).status).toBe(404);
  });

  it(`refuses a batch over ${MAX_BATCH_ITEMS} items on every batch operation, before any work`, async () => {
    await s.request('POST', 'transit/keys/limits', { body: {} });
    await s.request('POST', 'transit/keys/sig', { body: { type: 'ed25519' } });
    const routes = [
      'encrypt/limits',
      'decrypt/limits',
      'rewrap/limits',
      'hmac/limits',
      'sign/sig',
      'verify/sig',
    ];
    for (const route of routes) {
      expect(
        await s.request('POST', `transit/${route}`, {
          body: { batch_input: batchOf(MAX_BATCH_ITEMS + 1) },
        }),
        route,
      ).toMatchObject({
        status: 400,
        body: { errors: [`batch_input holds at most ${MAX_BATCH_ITEMS} items`] },
      });
    }
    expect((await s.request('GET', 'transit/keys/limits')).body.data.encryptions).toEqual({
      '1': 0,
    });
  });
});

describe('a key shows the encryptions made, not the slots reserved ahead', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { transit: { counterBlock: 500 } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('counts one encryption as one, then a batch as its items', async () => {
    expect((await s.request('POST', 'transit/keys/counted')).status).toBe(200);
    expect((await s.request('POST', 'transit/encrypt/counted', { body: item })).status).toBe(200);
    const once = await s.request('GET', 'transit/keys/counted');
    expect(once.body.data.encryptions).toEqual({ '1': 1 });
    await s.request('POST', 'transit/encrypt/counted', { body: { batch_input: batchOf(7) } });
    expect((await s.request('GET', 'transit/keys/counted')).body.data.encryptions).toEqual({
      '1': 8,
    });
  });
});

describe('keys stored with a small rotate_after_encryptions (a test minimum of 1)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', {
      transit: { counterBlock: 5, minRotateAfterEncryptions: 1 },
    });
  });
  afterAll(async () => {
    await s.close();
  });

  const info = async (name: string) => (await s.request('GET', `transit/keys/${name}`)).body.data;

  it.each([
    ['encrypt', 1],
    ['encrypt', 3],
    ['rewrap', 1],
  ])(
    `%s: a batch that could need more than ${MAX_NEW_VERSIONS_PER_REQUEST} new versions (limit %i) is refused whole`,
    async (operation, limit) => {
      const name = `cap-${operation}-${limit}`;
      await s.request('POST', `transit/keys/${name}`, {
        body: { rotate_after_encryptions: limit },
      });
      const most = MAX_NEW_VERSIONS_PER_REQUEST * limit;
      const ciphertext =
        operation === 'rewrap'
          ? (await s.request('POST', `transit/encrypt/${name}`, { body: item })).body.data
              .ciphertext
          : undefined;
      const fields = operation === 'rewrap' ? { ciphertext } : item;
      const before = await info(name);

      const refused = await s.request('POST', `transit/${operation}/${name}`, {
        body: { batch_input: batchOf(most + 1, fields) },
      });
      expect(refused).toMatchObject({
        status: 400,
        body: {
          errors: [
            `this request could create more than ${MAX_NEW_VERSIONS_PER_REQUEST} versions of key ${name}: send at most ${most} items per request under its rotate_after_encryptions`,
          ],
        },
      });
      const after = await info(name);
      expect(after.latest_version).toBe(before.latest_version);
      expect(after.encryptions).toEqual(before.encryptions);

      const accepted = await s.request('POST', `transit/${operation}/${name}`, {
        body: { batch_input: batchOf(most, fields) },
      });
      expect(accepted.status).toBe(200);
      const created = (await info(name)).latest_version - before.latest_version;
      expect(created).toBeGreaterThan(0);
      expect(created).toBeLessThanOrEqual(MAX_NEW_VERSIONS_PER_REQUEST);
    },
  );
});

describe('large batches share the event loop', () => {
  it(`runItems lets other work run after every ${ITEMS_PER_TURN} items`, async () => {
    let worked = 0;
    let workedWhenOtherRan: number | undefined;
    setImmediate(() => {
      workedWhenOtherRan = worked;
    });
    const results = await runItems(batchOf(1000), async () => ({ n: ++worked }));
    expect(results).toHaveLength(1000);
    expect(workedWhenOtherRan).toBe(ITEMS_PER_TURN);
  });

  it('a request sent while a 10,000-item batch is being encrypted is answered before the batch', async () => {
    // The transit clock is read just before the items are worked on: the health request is
    // sent from there, so it reaches the server while the batch is in progress.
    let sendHealth: (() => void) | undefined;
    const s = await startTestServer('sqlite', {
      transit: {
        now: () => {
          sendHealth?.();
          sendHealth = undefined;
          return new Date();
        },
      },
    });
    try {
      await s.request('POST', 'transit/keys/big', { body: {} });
      const finished: string[] = [];
      let health: Promise<unknown> | undefined;
      sendHealth = () => {
        health = send(s.url, 'GET', 'sys/health').then((r) => finished.push(`health ${r.status}`));
      };
      // The batch counts as answered when its headers arrive: the server writes them once every
      // item is done (its long body is still being read when a small answer could overtake it).
      const batch = fetch(`${s.url}/v1/transit/encrypt/big`, {
        method: 'POST',
        headers: { 'x-vault-token': s.rootToken, 'content-type': 'application/json' },
        body: JSON.stringify({ batch_input: batchOf(MAX_BATCH_ITEMS) }),
      }).then(async (r) => {
        finished.push(`batch ${r.status}`);
        await r.arrayBuffer();
      });
      await batch;
      await health;
      expect(finished).toEqual(['health 200', 'batch 200']);
    } finally {
      await s.close();
    }
  });
});
