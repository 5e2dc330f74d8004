import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  send,
  startTestServer,
  storageKinds,
  type TestResponse,
  type TestServer,
} from '../../test/harness.js';
import { startServer } from '../server.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const HOUR_MS = 3600_000;

type Encrypted = { ciphertext?: string; key_version?: number; error?: string };

/** How many ciphertexts each version made, from responses of single items and batches. */
function usesPerVersion(responses: readonly TestResponse[]): Map<number, number> {
  const uses = new Map<number, number>();
  for (const response of responses) {
    expect(response.status).toBe(200);
    const items: Encrypted[] = response.body.data.batch_results ?? [response.body.data];
    for (const item of items) {
      const version = item.key_version as number;
      // The ciphertext names the version the response reports.
      expect(item.ciphertext?.startsWith(`vault:v${version}:`)).toBe(true);
      uses.set(version, (uses.get(version) ?? 0) + 1);
    }
  }
  return uses;
}

describe.each(await storageKinds())('transit rotation and key storage on %s', (kind) => {
  let s: TestServer;
  // The transit clock is injected, so time-based rotation is tested without waiting.
  let nowMs = Date.now();
  beforeAll(async () => {
    s = await startTestServer(kind, {
      transit: { counterBlock: 5, minRotateAfterEncryptions: 1, now: () => new Date(nowMs) },
    });
  });
  afterAll(async () => {
    await s.close();
  });

  const encrypt = (name: string, body: Record<string, unknown>) =>
    s.request('POST', `transit/encrypt/${name}`, { body });
  const keyInfo = async (name: string) =>
    (await s.request('GET', `transit/keys/${name}`)).body.data;

  it('a batch larger than rotate_after_encryptions is spread over versions, none used more than the limit', async () => {
    await s.request('POST', 'transit/keys/batched', { body: { rotate_after_encryptions: 12 } });
    const plaintexts = Array.from({ length: 1000 }, (_, i) => b64(`item ${i}`));
    const encrypted = await encrypt('batched', {
      batch_input: plaintexts.map((plaintext, i) => ({ plaintext, reference: `r${i}` })),
    });
    const uses = usesPerVersion([encrypted]);
    // Each version takes exactly its limit (the reservation is cut to it), the last the rest.
    expect([...uses.entries()]).toEqual(
      Array.from({ length: 84 }, (_, i) => [i + 1, i < 83 ? 12 : 1000 - 83 * 12]),
    );
    const results = encrypted.body.data.batch_results as Encrypted[];
    const versions = results.map((r) => r.key_version as number);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    const info = await keyInfo('batched');
    expect(info.latest_version).toBe(84);
    for (const count of Object.values(info.encryptions as Record<string, number>))
      expect(count).toBeLessThanOrEqual(12);

    const decrypted = await s.request('POST', 'transit/decrypt/batched', {
      body: { batch_input: results.map((r) => ({ ciphertext: r.ciphertext })) },
    });
    expect(decrypted.status).toBe(200);
    expect(
      decrypted.body.data.batch_results.map((r: { plaintext: string }) => r.plaintext),
    ).toEqual(plaintexts);

    // Rewrap counts the same way: it fills version 84 up to the limit, then goes on.
    const rewrapped = await s.request('POST', 'transit/rewrap/batched', {
      body: { batch_input: results.map((r) => ({ ciphertext: r.ciphertext })) },
    });
    const rewrapUses = usesPerVersion([rewrapped]);
    expect(Math.min(...rewrapUses.keys())).toBe(84);
    expect(rewrapUses.get(84)).toBe(12 - (uses.get(84) as number));
    expect(Math.max(...rewrapUses.values())).toBe(12);
    expect([...rewrapUses.values()].reduce((a, b) => a + b)).toBe(1000);
  });

  it('refuses an explicit key_version that reached its limit, item by item', async () => {
    const exhausted =
      'version 1 of key batched reached its limit of 12 encryptions (rotate_after_encryptions); encrypt with a newer version';
    expect(await encrypt('batched', { plaintext: b64('x'), key_version: 1 })).toMatchObject({
      status: 400,
      body: { errors: [exhausted] },
    });
    const mixed = await encrypt('batched', {
      batch_input: [{ plaintext: b64('old'), key_version: 1 }, { plaintext: b64('new') }],
      partial_failure_response_code: 207,
    });
    expect(mixed.status).toBe(207);
    expect(mixed.body.data.batch_results[0]).toMatchObject({ error: exhausted });
    expect(mixed.body.data.batch_results[1].key_version).toBeGreaterThan(84);
  });

  it('concurrent requests share the limit: no version is used more often, none is lost', async () => {
    await s.request('POST', 'transit/keys/shared', { body: { rotate_after_encryptions: 12 } });
    const batch = {
      batch_input: Array.from({ length: 50 }, (_, i) => ({ plaintext: b64(`${i}`) })),
    };
    const responses = await Promise.all([
      ...Array.from({ length: 8 }, () => encrypt('shared', batch)),
      ...Array.from({ length: 40 }, () => encrypt('shared', { plaintext: b64('one') })),
      ...Array.from({ length: 4 }, () =>
        s.request('POST', 'transit/datakey/wrapped/shared', { body: {} }),
      ),
    ]);
    const uses = usesPerVersion(responses);
    expect([...uses.values()].reduce((a, b) => a + b)).toBe(8 * 50 + 40 + 4);
    expect(Math.max(...uses.values())).toBeLessThanOrEqual(12);
    const info = await keyInfo('shared');
    expect(info.latest_version).toBeGreaterThanOrEqual(Math.ceil(444 / 12));
    for (const count of Object.values(info.encryptions as Record<string, number>))
      expect(count).toBeLessThanOrEqual(12);
  });

  it('a key deleted and created again starts from a fresh counter: no slot of the old key is reused', async () => {
    await s.request('POST', 'transit/keys/again', { body: { rotate_after_encryptions: 12 } });
    expect((await encrypt('again', { plaintext: b64('x') })).body.data.key_version).toBe(1);
    await s.request('POST', 'transit/keys/again/config', { body: { deletion_allowed: true } });
    expect((await s.request('DELETE', 'transit/keys/again')).status).toBe(204);
    await s.request('POST', 'transit/keys/again', { body: { rotate_after_encryptions: 12 } });
    const versions: number[] = [];
    for (let i = 0; i < 13; i++)
      versions.push((await encrypt('again', { plaintext: b64('y') })).body.data.key_version);
    expect(versions).toEqual([...Array<number>(12).fill(1), 2]);
    expect((await keyInfo('again')).encryptions['1']).toBe(12);
  });

  it('auto_rotate_period rotates on use and in the periodic sweep, by the transit clock', async () => {
    for (const name of ['aged', 'idle', 'revoked-aged'])
      await s.request('POST', `transit/keys/${name}`, { body: { auto_rotate_period: '1h' } });
    await s.request('POST', 'transit/keys/revoked-aged/state', { body: { state: 'revoked' } });
    await s.request('POST', 'transit/keys/unaged', { body: {} });
    const sweep = () => s.server.context.transit.rotateDueKeys();

    expect((await encrypt('aged', { plaintext: b64('x') })).body.data.key_version).toBe(1);
    nowMs += HOUR_MS - 1000;
    expect((await encrypt('aged', { plaintext: b64('x') })).body.data.key_version).toBe(1);
    expect(await sweep()).toBe(0);
    nowMs += 2000;
    // On use: the encryption itself finds the latest version too old and rotates first.
    expect((await encrypt('aged', { plaintext: b64('x') })).body.data.key_version).toBe(2);
    expect((await keyInfo('idle')).latest_version).toBe(1);
    // The sweep catches the idle key; a revoked key and a key without a period stay as they are.
    expect(await sweep()).toBe(1);
    expect((await keyInfo('idle')).latest_version).toBe(2);
    expect((await keyInfo('idle')).keys['2']).toBe(Math.floor(nowMs / 1000));
    expect((await keyInfo('revoked-aged')).latest_version).toBe(1);
    expect((await keyInfo('unaged')).latest_version).toBe(1);
    expect((await keyInfo('aged')).latest_version).toBe(2);
    expect(await sweep()).toBe(0);
  });

  it('stores one entry per version: after 50 rotations no entry has grown, and trim deletes entries', async () => {
    const name = 'layout';
    await s.request('POST', `transit/keys/${name}`, { body: {} });
    const raw = async () => {
      const rows = await s.server.context.storage.db
        .selectFrom('custos_entries')
        .select(['path', 'value'])
        .where((eb) =>
          eb.or([
            eb('path', '=', `transit/policy/${name}`),
            eb('path', 'like', `transit/key/${name}/%`),
          ]),
        )
        .execute();
      return new Map(rows.map((r) => [r.path, (r.value as Uint8Array).byteLength]));
    };
    const before = await raw();
    expect([...before.keys()].sort()).toEqual([`transit/key/${name}/1`, `transit/policy/${name}`]);
    for (let i = 0; i < 50; i++)
      await s.request('POST', `transit/keys/${name}/rotate`, { body: {} });
    const after = await raw();
    const versionPaths = Array.from({ length: 51 }, (_, i) => `transit/key/${name}/${i + 1}`);
    expect([...after.keys()].sort()).toEqual([...versionPaths, `transit/policy/${name}`].sort());
    // The policy grows by the digits of latest_version at most; every version entry is small
    // and about the same size, whatever the number of versions.
    const policy = (m: Map<string, number>) => m.get(`transit/policy/${name}`) as number;
    expect(policy(after) - policy(before)).toBeLessThanOrEqual(4);
    const versionSizes = versionPaths.map((p) => after.get(p) as number);
    expect(
      Math.max(...versionSizes) - (before.get(`transit/key/${name}/1`) as number),
    ).toBeLessThanOrEqual(4);
    expect(Math.max(...versionSizes, policy(after))).toBeLessThan(1024);
    expect(Object.keys((await keyInfo(name)).keys)).toHaveLength(51);

    await s.request('POST', `transit/keys/${name}/config`, {
      body: { min_decryption_version: 41, min_encryption_version: 41 },
    });
    expect(
      (
        await s.request('POST', `transit/keys/${name}/trim`, {
          body: { min_available_version: 41 },
        })
      ).status,
    ).toBe(200);
    const trimmed = await raw();
    expect([...trimmed.keys()].sort()).toEqual(
      [...versionPaths.slice(40), `transit/policy/${name}`].sort(),
    );
  });
});

describe.runIf((await storageKinds()).includes('postgres'))(
  'rotate_after_encryptions across two server nodes on one PostgreSQL',
  () => {
    it('every counter slot is handed out once: no version is used more than its limit by both nodes together', async () => {
      const a = await startTestServer('postgres', {
        transit: { counterBlock: 5, minRotateAfterEncryptions: 1 },
      });
      const b = await startServer({
        storage: a.storage.location,
        port: 0,
        logLevel: 'silent',
        transit: { counterBlock: 5, minRotateAfterEncryptions: 1 },
      });
      try {
        await send(b.url, 'POST', 'sys/unseal', { body: { key: a.server.unsealKey } });
        await a.request('POST', 'transit/keys/nodes', { body: { rotate_after_encryptions: 12 } });
        const batch = {
          batch_input: Array.from({ length: 30 }, (_, i) => ({ plaintext: b64(`${i}`) })),
        };
        const responses = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            send(i % 2 === 0 ? a.url : b.url, 'POST', 'transit/encrypt/nodes', {
              token: 'root',
              body: i % 4 < 2 ? batch : { plaintext: b64('single') },
            }),
          ),
        );
        const uses = usesPerVersion(responses);
        expect([...uses.values()].reduce((x, y) => x + y)).toBe(10 * 30 + 10);
        expect(Math.max(...uses.values())).toBeLessThanOrEqual(12);
        // What one node wrote, the other decrypts.
        const fromB = responses[1]?.body.data.batch_results[0].ciphertext;
        const onA = await a.request('POST', 'transit/decrypt/nodes', {
          body: { ciphertext: fromB },
        });
        expect(onA.body.data.plaintext).toBe(b64('0'));
      } finally {
        await b.close();
        await a.close();
      }
    });
  },
);
