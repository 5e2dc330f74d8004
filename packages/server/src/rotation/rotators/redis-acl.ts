import { createHash } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import type { Redis } from 'ioredis';
import { ownValue } from '../../lib/own-property.js';
import type { RotationContext, Rotator } from '../rotator.js';
import { randomValue, randomValueSpec } from './random-value.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** What the policy's settings say, checked. */
interface RedisSettings {
  readonly url: string;
  readonly username: string;
  readonly adminPath: string | undefined;
}

function settingsOf(settings: Readonly<Record<string, unknown>>): RedisSettings {
  const url = settings.url;
  if (typeof url !== 'string') throw invalid('settings.url is required (redis://host:port)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('settings.url must be a redis:// or rediss:// URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw invalid('settings.url must be a redis:// or rediss:// URL');
  if (parsed.username !== '' || parsed.password !== '')
    throw invalid(
      'settings.url must not hold credentials: name a secret holding them in settings.admin_path',
    );
  const username = settings.username;
  if (typeof username !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(username))
    throw invalid('settings.username must be the ACL user to rotate (letters, digits, _ . : -)');
  const adminPath = settings.admin_path;
  if (adminPath !== undefined && (typeof adminPath !== 'string' || adminPath === ''))
    throw invalid('settings.admin_path must be the path of a secret in the same mount');
  return { url, username, adminPath };
}

/** Redis's own hash of an ACL password: `#<hex>` adds it, `!<hex>` removes it. */
const aclHash = (password: string) => createHash('sha256').update(password).digest('hex');

/**
 * A Redis client that fails at once instead of retrying (a step reports, the engine decides).
 * ioredis loads on first use: a server that rotates no Redis password never pays its memory.
 */
async function connect(url: string, auth?: { username: string; password: string }): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5000,
    ...(auth === undefined ? {} : auth),
  });
  // Failures reach the step through its commands; the event would only be logged (with Redis's
  // message) as unhandled.
  client.on('error', () => {});
  return client;
}

/**
 * Runs `work` on a connection, closing it after; a Redis error is reported by its kind only.
 * `signal` (the step's: the node lost the rotation, or stops) drops the connection and ends
 * the step: checked before connecting and by `work` before each command that changes the
 * server (`stopped`).
 */
async function withRedis<T>(
  client: Redis,
  what: string,
  signal: AbortSignal,
  work: (client: Redis, stopped: () => void) => Promise<T>,
): Promise<T> {
  const stop = () => client.disconnect();
  const stopped = () => {
    if (signal.aborted) throw new Error('STOPPED');
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    stopped();
    await client.connect();
    return await work(client, stopped);
  } catch (err) {
    if (signal.aborted) throw new Error(`${what} stopped: the node no longer holds the rotation`);
    // Redis messages can quote a command's arguments: only the error's first word is kept.
    const kind = err instanceof Error ? (err.message.split(/\s/)[0] ?? 'error') : 'error';
    throw new Error(`${what} failed (${/^[A-Z]+$/.test(kind) ? kind : 'connection error'})`);
  } finally {
    signal.removeEventListener('abort', stop);
    client.disconnect();
  }
}

/** The admin connection the policy names (an admin secret's username and password, or none). */
async function adminOf(context: RotationContext, settings: RedisSettings): Promise<Redis> {
  if (settings.adminPath === undefined) return connect(settings.url);
  const admin = await context.readSecret(settings.adminPath);
  const username = admin === undefined ? undefined : ownValue(admin, 'username');
  const password = admin === undefined ? undefined : ownValue(admin, 'password');
  if (typeof password !== 'string')
    throw new Error('the admin secret (settings.admin_path) has no password');
  return connect(settings.url, {
    username: typeof username === 'string' ? username : 'default',
    password,
  });
}

/** The hashes of the user's passwords (ACL GETUSER); undefined when there is no such user. */
async function hashesOf(client: Redis, username: string): Promise<string[] | undefined> {
  const user = (await client.call('ACL', 'GETUSER', username)) as unknown[] | null;
  if (user === null) return undefined;
  const at = user.indexOf('passwords');
  const hashes = at === -1 ? [] : user[at + 1];
  return Array.isArray(hashes) ? hashes.map(String) : [];
}

/** The hashes of the user's passwords; an error when there is no such user. */
async function passwordHashes(client: Redis, username: string): Promise<string[]> {
  const hashes = await hashesOf(client, username);
  if (hashes === undefined) throw new Error('the ACL user does not exist');
  return hashes;
}

const passwordOf = (data: Readonly<Record<string, unknown>>): string => {
  const password = ownValue(data, 'password');
  if (typeof password !== 'string') throw new Error('the value has no password field');
  return password;
};

/**
 * The `redis-acl` rotator: a new password for a Redis ACL user, with both passwords valid
 * during the grace period (a Redis ACL user may hold several passwords). The secret's data is
 * `{ username, password }`.
 *
 * - set: `ACL SETUSER <user> #<sha256>` adds the new password by its hash (the password itself
 *   never crosses the wire in a command, so MONITOR and the slow log never show it);
 * - test: a new connection authenticates as the user with the new password and PINGs;
 * - rollback: `ACL SETUSER <user> !<sha256>` removes the new password (when the user has it);
 * - retire (grace over): removes the old password the same way.
 *
 * Settings: `url` (`redis://host:port`, no credentials), `username`, `admin_path` (a secret of
 * the same mount with the `username`/`password` of a user allowed `ACL SETUSER`; none: the
 * connection does not authenticate), and `length`/`charset` of the password (default 32
 * alphanumeric). Every step is idempotent (adding a password twice, or removing one that is
 * gone, changes nothing).
 */
export const redisAclRotator: Rotator = {
  name: 'redis-acl',
  checkSettings(settings) {
    settingsOf(settings);
    randomValueSpec(settings);
  },
  async preflight(context) {
    const settings = settingsOf(context.settings);
    await withRedis(await adminOf(context, settings), 'ACL GETUSER', context.signal, (c) =>
      passwordHashes(c, settings.username),
    );
  },
  async create({ settings, current }) {
    const { username } = settingsOf(settings);
    return { ...current, username, password: randomValue(randomValueSpec(settings)) };
  },
  async set(context) {
    const settings = settingsOf(context.settings);
    const hash = aclHash(passwordOf(context.pending));
    await withRedis(
      await adminOf(context, settings),
      'ACL SETUSER',
      context.signal,
      async (c, stopped) => {
        await passwordHashes(c, settings.username); // the user must exist: never create one
        stopped(); // the safe point: nothing changed yet
        await c.call('ACL', 'SETUSER', settings.username, `#${hash}`);
      },
    );
  },
  async test(context) {
    const settings = settingsOf(context.settings);
    const password = passwordOf(context.pending);
    await withRedis(
      await connect(settings.url, { username: settings.username, password }),
      'authenticating with the new password',
      context.signal,
      async (c) => {
        if ((await c.ping()) !== 'PONG') throw new Error('PING did not answer PONG');
      },
    );
  },
  async rollback(context) {
    await removePassword(context, passwordOf(context.pending));
  },
  async retire(context) {
    const previous = passwordOf(context.previous);
    if (previous === ownValue(context.current, 'password')) return;
    await removePassword(context, previous);
  },
};

async function removePassword(context: RotationContext, password: string): Promise<void> {
  const settings = settingsOf(context.settings);
  const hash = aclHash(password);
  await withRedis(
    await adminOf(context, settings),
    'ACL SETUSER',
    context.signal,
    async (c, stopped) => {
      // No such user, or not this password: nothing to remove (a rollback after a failed set).
      if (!(await hashesOf(c, settings.username))?.includes(hash)) return;
      stopped();
      await c.call('ACL', 'SETUSER', settings.username, `!${hash}`);
    },
  );
}
