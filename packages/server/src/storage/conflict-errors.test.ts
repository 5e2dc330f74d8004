import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { VersionConflict } from '../errors.js';
import { toHttpError } from '../http/error-mapping.js';
import { openStorage, type StorageDatabase } from './database.js';
import { createEntryStore, STORAGE_CONFLICT } from './entry-store.js';

const caught = async (work: () => Promise<unknown>) => {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected a refusal');
};

describe('a storage conflict names its entry to the server log only', () => {
  let db: StorageDatabase;
  beforeAll(async () => {
    db = await openStorage(':memory:');
  });
  afterAll(async () => {
    await db.close();
  });

  it('carries the path apart from a fixed message, and the HTTP answer holds the message only', async () => {
    const store = createEntryStore(db.db);
    await store.insert('sys/token/id/abc123', new Uint8Array([1]));
    const conflicts = [
      await caught(() => store.insert('sys/token/id/abc123', new Uint8Array([2]))),
      await caught(() => store.update('sys/token/id/abc123', new Uint8Array([2]), 999)),
    ];
    for (const err of conflicts) {
      expect(err).toBeInstanceOf(VersionConflict);
      expect((err as VersionConflict).message).toBe(STORAGE_CONFLICT);
      expect((err as VersionConflict).path).toBe('sys/token/id/abc123');
      const answer = toHttpError(err);
      expect(answer).toEqual({
        status: 400,
        body: { errors: [STORAGE_CONFLICT] },
        logDetail: { code: 'ERR_VERSION_CONFLICT', path: 'sys/token/id/abc123' },
      });
      expect(JSON.stringify(answer.body)).not.toContain('abc123');
    }
  });
});

describe('the conflicts a client can cause get their own message, never a storage path', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await s.close();
  });

  const leaksStorage = (text: string) =>
    /auth\/approle|sys\/token|role-id\/|\/id\/|concurrently/.test(text);

  it("a role_id another role has: 'role_id already in use', and neither role changes", async () => {
    for (const role of ['ra', 'rb'])
      await s.request('POST', `auth/approle/role/${role}`, {
        body: { token_policies: ['default'] },
      });
    const roleA = (await s.request('GET', 'auth/approle/role/ra/role-id')).body.data.role_id;
    const roleB = (await s.request('GET', 'auth/approle/role/rb/role-id')).body.data.role_id;
    const taken = await s.request('POST', 'auth/approle/role/rb/role-id', {
      body: { role_id: roleA },
    });
    expect(taken).toMatchObject({ status: 400, body: { errors: ['role_id already in use'] } });
    expect(leaksStorage(taken.text)).toBe(false);
    expect((await s.request('GET', 'auth/approle/role/rb/role-id')).body.data.role_id).toBe(roleB);
    expect((await s.request('GET', 'auth/approle/role/ra/role-id')).body.data.role_id).toBe(roleA);
    // Setting a role's own role_id again is no conflict.
    expect(
      (await s.request('POST', 'auth/approle/role/ra/role-id', { body: { role_id: roleA } }))
        .status,
    ).toBe(204);
  });

  it("a token id that a token has: 'cannot create a token with a duplicate ID' (Vault's words)", async () => {
    for (const id of ['root', 'chosen-token-id']) {
      if (id !== 'root')
        expect((await s.request('POST', 'auth/token/create', { body: { id } })).status).toBe(200);
      const again = await s.request('POST', 'auth/token/create', { body: { id } });
      expect(again).toMatchObject({
        status: 400,
        body: { errors: ['cannot create a token with a duplicate ID'] },
      });
      expect(leaksStorage(again.text)).toBe(false);
    }
    // Both tokens still work.
    for (const token of ['root', 'chosen-token-id'])
      expect((await s.request('GET', 'auth/token/lookup-self', { token })).status).toBe(200);
  });
});
