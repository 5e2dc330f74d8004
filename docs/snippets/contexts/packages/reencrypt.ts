/**
 * packages/reencrypt/README.md: the application's Kysely instance (SQLite) with a `patients`
 * table whose values are encrypted under version 1 of a keyring that has since been rotated,
 * and that keyring's cipher.
 */
import { Keyring } from '@custos/core/crypto';
import { createFieldCipher, createRowCodec } from '@custos/core/fields';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { SnippetExports } from '../../support.js';

const sqlite = new Database(':memory:');
sqlite.exec('create table patients (id integer primary key, ssn text, email text)');
export const db = new Kysely<Record<string, never>>({
  dialect: new SqliteDialect({ database: sqlite }),
});

export const keyring = new Keyring();
keyring.createKey('default');
const before = createRowCodec(createFieldCipher({ keyring }), {
  table: 'patients',
  idColumn: 'id',
  columns: { ssn: true, email: true },
});
const insert = sqlite.prepare('insert into patients (id, ssn, email) values (@id, @ssn, @email)');
for (const id of [1, 2, 3])
  insert.run(before.encryptRow({ id, ssn: `078-05-112${id}`, email: `p${id}@example.com` }));
keyring.rotate('default');
export const cipher = createFieldCipher({ keyring });

export async function finish(_snippet: SnippetExports): Promise<void> {
  await db.destroy();
}
