import { CustosError } from '@custos/core/errors';
import type pg from 'pg';
import { loadPg } from '../../database/load-pg.js';
import { ownValue } from '../../lib/own-property.js';
import type { PendingContext, RotationContext, Rotator } from '../rotator.js';
import { randomValue, randomValueSpec } from './random-value.js';
import { scramVerifier } from './scram-verifier.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);
const ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

interface PostgresSettings {
  readonly url: string;
  readonly usernames: readonly [string, string];
  readonly adminPath: string | undefined;
}

function settingsOf(settings: Readonly<Record<string, unknown>>): PostgresSettings {
  const url = settings.url;
  if (typeof url !== 'string') throw invalid('settings.url is required (postgres://host:port/db)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('settings.url must be a postgres:// URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw invalid('settings.url must be a postgres:// URL');
  if (parsed.password !== '')
    throw invalid(
      'settings.url must not hold a password: name a secret holding the admin credentials in settings.admin_path',
    );
  const usernames = settings.usernames;
  if (
    !Array.isArray(usernames) ||
    usernames.length !== 2 ||
    !usernames.every((u) => typeof u === 'string' && ROLE.test(u)) ||
    usernames[0] === usernames[1]
  )
    throw invalid(
      'settings.usernames must be two different roles (lower-case letters, digits, _) the application may log in as, with the same privileges',
    );
  const adminPath = settings.admin_path;
  if (adminPath !== undefined && (typeof adminPath !== 'string' || adminPath === ''))
    throw invalid('settings.admin_path must be the path of a secret in the same mount');
  return { url, usernames: usernames as [string, string], adminPath };
}

/** The admin connection: the URL, with the admin secret's user and password when named. */
async function admin(context: RotationContext, settings: PostgresSettings): Promise<pg.Client> {
  let auth: { user?: string; password?: string } = {};
  if (settings.adminPath !== undefined) {
    const secret = await context.readSecret(settings.adminPath);
    const password = secret === undefined ? undefined : ownValue(secret, 'password');
    const user = secret === undefined ? undefined : ownValue(secret, 'username');
    if (typeof password !== 'string')
      throw new Error('the admin secret (settings.admin_path) has no password');
    auth = { password, ...(typeof user === 'string' ? { user } : {}) };
  }
  const { Client } = loadPg();
  return new Client(clientConfig(settings.url, auth));
}

/**
 * A client's settings from the policy's URL and the credentials to log in with (pg lets a
 * connection string's user win over a `user` option, so the URL is taken apart here).
 */
function clientConfig(url: string, auth: { user?: string; password?: string }): pg.ClientConfig {
  const parsed = new URL(url);
  const ssl = parsed.searchParams.get('sslmode');
  return {
    host: decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, '')),
    port: parsed.port === '' ? 5432 : Number(parsed.port),
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
    user: auth.user ?? (decodeURIComponent(parsed.username) || 'postgres'),
    ...(auth.password === undefined ? {} : { password: auth.password }),
    ...(ssl === null || ssl === 'disable'
      ? {}
      : { ssl: { rejectUnauthorized: ssl !== 'require' } }),
    connectionTimeoutMillis: 5000,
  };
}

/**
 * Runs `work` on a connection, closing it after; PostgreSQL errors are reported by SQLSTATE
 * only. `signal` (the step's: the node lost the rotation, or stops) ends the connection and
 * the step: checked before connecting and by `work` before each statement that changes the
 * server (`stopped`).
 */
async function withClient<T>(
  client: pg.Client,
  what: string,
  signal: AbortSignal,
  work: (client: pg.Client, stopped: () => void) => Promise<T>,
): Promise<T> {
  client.on('error', () => {});
  const stop = () => void client.end().catch(() => {});
  const stopped = () => {
    if (signal.aborted) throw new Error('stopped');
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    stopped();
    await client.connect();
    stopped();
    return await work(client, stopped);
  } catch (err) {
    if (signal.aborted) throw new Error(`${what} stopped: the node no longer holds the rotation`);
    const code = (err as { code?: unknown }).code;
    throw new Error(`${what} failed (${typeof code === 'string' ? code : 'connection error'})`);
  } finally {
    signal.removeEventListener('abort', stop);
    await client.end().catch(() => {});
  }
}

const field = (data: Readonly<Record<string, unknown>>, name: string): string => {
  const value = ownValue(data, name);
  if (typeof value !== 'string') throw new Error(`the value has no ${name} field`);
  return value;
};

/** The role a rotation moves to: the one of the two the current value does not use. */
function nextRole(settings: PostgresSettings, current: Readonly<Record<string, unknown>>): string {
  const [a, b] = settings.usernames;
  return ownValue(current, 'username') === a ? b : a;
}

async function setPassword(context: RotationContext, role: string, password: string | null) {
  const settings = settingsOf(context.settings);
  // Role names are checked against ROLE (no quoting needed beyond the identifier quotes), and
  // the password is sent as its SCRAM verifier, never in clear.
  const value = password === null ? 'NULL' : `'${scramVerifier(password)}'`;
  await withClient(
    await admin(context, settings),
    'ALTER ROLE',
    context.signal,
    async (c, stopped) => {
      const found = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (found.rowCount === 0) throw Object.assign(new Error('no such role'), { code: 'no role' });
      stopped(); // the safe point: nothing changed yet
      await c.query(`ALTER ROLE "${role}" WITH LOGIN PASSWORD ${value}`);
    },
  );
}

/**
 * The `postgres-password` rotator, with **alternating users** (AWS's strategy): the secret is
 * `{ username, password, … }` for one of two roles with the same privileges
 * (`settings.usernames`); a rotation gives the *other* role a new password and makes it
 * current. The role in use keeps its password through the grace period, so open connections
 * and clients that reconnect with the old value keep working; when the grace period ends its
 * password is removed (`PASSWORD NULL`: it can no longer log in with one).
 *
 * Why not one role with two passwords: PostgreSQL keeps one password per role, so
 * `ALTER ROLE … PASSWORD` on the role in use would refuse every client that reconnects with
 * the old value before it re-reads the secret.
 *
 * - set: `ALTER ROLE <other> WITH LOGIN PASSWORD '<SCRAM verifier>'` (the password never
 *   appears in a statement: the server's log cannot show it);
 * - test: a new connection as the other role with the new password runs `SELECT 1`;
 * - rollback: the other role's password is removed again; the current role is never touched;
 * - retire (grace over): the previous role's password is removed.
 *
 * Settings: `url` (the admin connection, no password in it), `usernames` (the two roles, which
 * must exist), `admin_path` (a secret of the same mount with the admin's `username`/`password`),
 * `length`/`charset` of the password.
 */
export const postgresPasswordRotator: Rotator = {
  name: 'postgres-password',
  checkSettings(settings) {
    settingsOf(settings);
    randomValueSpec(settings);
  },
  async preflight(context) {
    const settings = settingsOf(context.settings);
    await withClient(
      await admin(context, settings),
      'connecting as the admin',
      context.signal,
      async (c) => {
        const found = await c.query(
          'SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1)',
          [[...settings.usernames]],
        );
        if (found.rows[0]?.n !== 2)
          throw Object.assign(new Error('roles'), { code: 'missing role' });
      },
    );
  },
  async create({ settings, current }) {
    const parsed = settingsOf(settings);
    return {
      ...current,
      username: nextRole(parsed, current),
      password: randomValue(randomValueSpec(settings)),
    };
  },
  async set(context: PendingContext) {
    await setPassword(
      context,
      field(context.pending, 'username'),
      field(context.pending, 'password'),
    );
  },
  async test(context: PendingContext) {
    const settings = settingsOf(context.settings);
    const { Client } = loadPg();
    const client = new Client(
      clientConfig(settings.url, {
        user: field(context.pending, 'username'),
        password: field(context.pending, 'password'),
      }),
    );
    await withClient(client, 'connecting with the new password', context.signal, async (c) => {
      const result = await c.query('SELECT current_user AS who');
      if (result.rows[0]?.who !== field(context.pending, 'username'))
        throw Object.assign(new Error('wrong user'), { code: 'wrong user' });
    });
  },
  async rollback(context: PendingContext) {
    const role = field(context.pending, 'username');
    // Never the role the current value uses (a secret written by hand may name either).
    if (role === ownValue(context.current, 'username')) return;
    await setPassword(context, role, null);
  },
  async retire(context) {
    const role = field(context.previous, 'username');
    if (role === ownValue(context.current, 'username')) return;
    await setPassword(context, role, null);
  },
};
