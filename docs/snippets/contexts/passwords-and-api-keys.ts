/**
 * docs/passwords-and-api-keys.md: a login form and the user it names (with an Argon2id hash of
 * the form's password), peppers, a Kysely database (SQLite), `API_KEY_PEPPER` in the
 * environment, and a real `node:http` request and response for the API-key and cookie examples.
 */
import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { hashPassword } from '@custos/core/passwords';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { check, type SnippetExports } from '../support.js';

export const form = { email: 'nurse@example.com', password: 'correct horse battery staple' };
export const user = {
  id: 'user-42',
  passwordHash: await hashPassword(form.password),
};
/** The application's users table. */
export const users = {
  async setPasswordHash(id: string, hash: string): Promise<void> {
    check(id === user.id && hash.startsWith('$argon2id$'), 'a rehash stores an Argon2id hash');
  },
};

export const oldPepper = randomBytes(32).toString('base64url');
export const newPepper = randomBytes(32).toString('base64url');
export const peppers = { currentId: '2025', peppers: { '2024': oldPepper, '2025': newPepper } };

export const db = new Kysely<Record<string, never>>({
  dialect: new SqliteDialect({ database: new Database(':memory:') }),
});
process.env.API_KEY_PEPPER = randomBytes(32).toString('base64url');

// A request as a server receives it; `show` stands for the page that displays a new API key
// once, after which the client sends it back in `x-api-key`.
export const req = new IncomingMessage(new Socket());
req.headers.cookie = `__Host-session=${randomBytes(16).toString('base64url')}`;
export const res = new ServerResponse(req);
export function show(key: string): void {
  req.headers['x-api-key'] = key;
}
export const pair = { accessToken: `eyJ${randomBytes(24).toString('base64url')}` };

export async function finish(_snippet: SnippetExports): Promise<void> {
  await db.destroy();
}
