import { openTestDatabase, type TestDatabase } from '@custos/test-support/kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlApiKeyStore } from './index.js';

// The table name is put into SQL statements as an identifier, so only plain lowercase
// identifiers of at most 63 characters (PostgreSQL's limit) get that far.
describe('SQL API-key store table name', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase('sqlite', 'apikeytable');
  });
  afterAll(() => database.close());

  it('accepts lowercase identifiers of 1 to 63 characters', async () => {
    for (const tableName of ['k', '_', 'api_keys_2', `_${'a1'.repeat(31)}`, 'z'.repeat(63)]) {
      expect(() => createSqlApiKeyStore({ db: database.db, tableName }), tableName).not.toThrow();
    }
    const store = createSqlApiKeyStore({ db: database.db, tableName: '_keys_2' });
    await store.createTable();
    expect(await store.findByKeyId('unknownkey00')).toBeUndefined();
  });

  it('refuses anything else, wherever the offending character is', () => {
    for (const tableName of [
      '',
      'z'.repeat(64),
      'Keys',
      'keyS',
      '1keys',
      'api-keys',
      'keys; drop table users; select x',
      'x" or "1',
      'keys x',
      'keys\n',
    ]) {
      expect(() => createSqlApiKeyStore({ db: database.db, tableName }), tableName).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: 'tableName must be a lowercase SQL identifier',
        }),
      );
    }
  });
});
