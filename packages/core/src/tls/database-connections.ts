import { readFileSync } from 'node:fs';
import { CustosError } from '../errors/index.js';
import {
  booleanSetting,
  readSettings,
  type SettingsEnv,
  textSetting,
} from '../lib/env-settings.js';
import { secret } from '../secrets/schema.js';

/** TLS options for `pg` and `ioredis` (`false`: a plain connection). */
export type ConnectionTls =
  | false
  | {
      readonly rejectUnauthorized: boolean;
      readonly ca?: string;
      /** Present (and accepting every name) for `verify-ca`: the chain is checked, not the name. */
      readonly checkServerIdentity?: () => undefined;
      readonly servername?: string;
    };

/** Options for `new pg.Pool(...)` / `new pg.Client(...)`. */
export interface PgConnectionOptions {
  /** The URL without its TLS parameters, which `ssl` now carries. */
  readonly connectionString: string;
  readonly ssl: ConnectionTls;
}

/** Options for `new Redis(url, options)` (ioredis). */
export interface RedisConnectionOptions {
  readonly url: string;
  readonly tls?: Exclude<ConnectionTls, false>;
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
const TLS_PARAMS = ['sslmode', 'sslrootcert', 'ssl', 'sslcert', 'sslkey', 'uselibpqcompat'];

function readCa(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CustosError(
      'ERR_TLS_CONFIG',
      `cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
}

/** The TLS of a libpq `sslmode`, with the CA bundle when given. */
function tlsOfMode(mode: (typeof SSL_MODES)[number], ca: string | undefined): ConnectionTls {
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  return {
    rejectUnauthorized: mode !== 'require',
    ...(ca === undefined ? {} : { ca }),
    ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
}

/** Why a connection is insecure, or undefined. */
function insecurity(tls: ConnectionTls): string | undefined {
  if (tls === false) return 'without TLS';
  if (!tls.rejectUnauthorized)
    return "without verifying the server's certificate (rejectUnauthorized: false)";
  return undefined;
}

/**
 * Reads a PostgreSQL URL's TLS parameters as libpq does (`sslmode`: `disable`, `allow` and
 * `prefer` connect without TLS here, `require` encrypts without verifying, `verify-ca` checks
 * the chain, `verify-full` the chain and the host name; `sslrootcert` names the CA bundle) and
 * returns the URL without them plus the matching `ssl` option for `pg`. Without them in the
 * URL, `PGSSLMODE` and `PGSSLROOTCERT` apply, as in libpq; with neither, no TLS. Refuses nothing: {@link pgConnectionOptions} adds the production rule.
 *
 * @example
 * ```ts
 * new pg.Pool(pgConnectionOptionsFromUrl('postgres://app@db/app?sslmode=verify-full&sslrootcert=/etc/ca.pem'));
 * ```
 */
export function pgConnectionOptionsFromUrl(
  location: string,
  caPath?: string,
  env: SettingsEnv = process.env,
): PgConnectionOptions {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    // The URL may hold a password: it is never quoted.
    throw new CustosError('ERR_INVALID_ARGUMENT', 'the PostgreSQL URL is not a valid URL');
  }
  // As libpq: the URL first, then PGSSLMODE / PGSSLROOTCERT.
  const mode = url.searchParams.get('sslmode') ?? env.PGSSLMODE?.trim() ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw new CustosError('ERR_TLS_CONFIG', `sslmode must be one of ${SSL_MODES.join(', ')}`);
  }
  const rootCert = url.searchParams.get('sslrootcert') ?? caPath ?? env.PGSSLROOTCERT?.trim();
  for (const param of TLS_PARAMS) url.searchParams.delete(param);
  const ca = rootCert === undefined ? undefined : readCa(rootCert, 'CA bundle');
  return {
    connectionString: url.toString(),
    ssl: tlsOfMode(mode as (typeof SSL_MODES)[number], ca),
  };
}

function refuseInsecure(
  tls: ConnectionTls,
  what: string,
  allowVariable: string,
  allowed: boolean,
  production: boolean,
): void {
  const why = insecurity(tls);
  if (why !== undefined && production && !allowed) {
    throw new CustosError(
      'ERR_INSECURE_CONNECTION',
      `production refuses a ${what} connection ${why}: turn TLS on, or set ${allowVariable}=true knowingly`,
    );
  }
}

/**
 * `pg` connection options from the environment: `DATABASE_URL` (its `sslmode` and
 * `sslrootcert` honoured), or `DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER`, `DB_PASSWORD`;
 * `DB_SSL=true` for `verify-full` (with `DB_SSL_REJECT_UNAUTHORIZED=false`: `require`);
 * `DB_SSL_CA` for the CA bundle. In production (`NODE_ENV=production`) a connection without
 * TLS, or without verifying the certificate, is refused with `ERR_INSECURE_CONNECTION` unless
 * `DB_ALLOW_INSECURE=true`. Bad variables fail together with `ERR_SECRETS_INVALID`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool = new pg.Pool(pgConnectionOptions()); // DATABASE_URL=postgres://…?sslmode=verify-full
 * ```
 */
export function pgConnectionOptions(env: SettingsEnv = process.env): PgConnectionOptions {
  const settings = readSettings(
    {
      DATABASE_URL: textSetting(),
      DB_HOST: textSetting(),
      DB_PORT: textSetting(),
      DB_NAME: textSetting(),
      DB_USER: textSetting(),
      DB_PASSWORD: secret({ optional: true, minBytes: 1, minEntropyBits: 0 }),
      DB_SSL: booleanSetting(),
      DB_SSL_REJECT_UNAUTHORIZED: booleanSetting(),
      DB_SSL_CA: textSetting(),
      DB_ALLOW_INSECURE: booleanSetting(),
    },
    env,
  );
  const port = settings.integer('DB_PORT', 5432, { min: 1, max: 65535 });
  const urlText = settings.text('DATABASE_URL');
  const host = settings.text('DB_HOST');
  if (urlText === undefined && host === undefined)
    settings.problem('DATABASE_URL', 'missing (or set DB_HOST, DB_NAME, DB_USER, DB_PASSWORD)');
  const sslSet = settings.text('DB_SSL') !== undefined;
  const ssl = settings.boolean('DB_SSL', false);
  const verify = settings.boolean('DB_SSL_REJECT_UNAUTHORIZED', true);
  const allowed = settings.boolean('DB_ALLOW_INSECURE', false);
  settings.done();
  let location: string;
  if (urlText !== undefined) {
    location = urlText;
  } else {
    const url = new URL('postgres://localhost');
    url.hostname = host as string;
    url.port = String(port);
    url.pathname = `/${encodeURIComponent(settings.text('DB_NAME') ?? '')}`;
    url.username = encodeURIComponent(settings.text('DB_USER') ?? '');
    const password = env.DB_PASSWORD?.trim();
    if (password) url.password = encodeURIComponent(password);
    location = url.toString();
  }
  if (sslSet) {
    const url = new URL(location);
    url.searchParams.set('sslmode', ssl ? (verify ? 'verify-full' : 'require') : 'disable');
    location = url.toString();
  }
  const options = pgConnectionOptionsFromUrl(location, settings.text('DB_SSL_CA'), env);
  refuseInsecure(
    options.ssl,
    'PostgreSQL',
    'DB_ALLOW_INSECURE',
    allowed,
    env.NODE_ENV?.trim() === 'production',
  );
  return options;
}

/**
 * `ioredis` connection options from the environment: `REDIS_URL` (`rediss://` for TLS), or
 * `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD`, with `REDIS_TLS=true`;
 * `REDIS_TLS_REJECT_UNAUTHORIZED=false` turns verification off, `REDIS_TLS_CA` names the CA
 * bundle. In production a plain or unverified connection is refused with
 * `ERR_INSECURE_CONNECTION` unless `REDIS_ALLOW_INSECURE=true`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const { url, ...options } = redisConnectionOptions(); // REDIS_URL=rediss://…
 * const redis = new Redis(url, options);
 * ```
 */
export function redisConnectionOptions(env: SettingsEnv = process.env): RedisConnectionOptions {
  const settings = readSettings(
    {
      REDIS_URL: textSetting(),
      REDIS_HOST: textSetting(),
      REDIS_PORT: textSetting(),
      REDIS_PASSWORD: secret({ optional: true, minBytes: 1, minEntropyBits: 0 }),
      REDIS_TLS: booleanSetting(),
      REDIS_TLS_REJECT_UNAUTHORIZED: booleanSetting(),
      REDIS_TLS_CA: textSetting(),
      REDIS_ALLOW_INSECURE: booleanSetting(),
    },
    env,
  );
  const port = settings.integer('REDIS_PORT', 6379, { min: 1, max: 65535 });
  const urlText = settings.text('REDIS_URL');
  const host = settings.text('REDIS_HOST');
  if (urlText === undefined && host === undefined)
    settings.problem('REDIS_URL', 'missing (or set REDIS_HOST)');
  const verify = settings.boolean('REDIS_TLS_REJECT_UNAUTHORIZED', true);
  const allowed = settings.boolean('REDIS_ALLOW_INSECURE', false);
  const tlsAsked = settings.boolean('REDIS_TLS', false);
  settings.done();
  let url: URL;
  try {
    url = new URL(urlText ?? `redis://${host}:${port}`);
  } catch {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'REDIS_URL is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'REDIS_URL must start with redis:// or rediss://',
    );
  }
  const password = env.REDIS_PASSWORD?.trim();
  if (password && url.password === '') url.password = encodeURIComponent(password);
  const useTls = url.protocol === 'rediss:' || tlsAsked;
  const caPath = settings.text('REDIS_TLS_CA');
  const tls: ConnectionTls = useTls
    ? {
        rejectUnauthorized: verify,
        ...(caPath === undefined ? {} : { ca: readCa(caPath, 'CA bundle') }),
      }
    : false;
  refuseInsecure(
    tls,
    'Redis',
    'REDIS_ALLOW_INSECURE',
    allowed,
    env.NODE_ENV?.trim() === 'production',
  );
  return { url: url.toString(), ...(tls === false ? {} : { tls }) };
}
