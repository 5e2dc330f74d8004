import { isAbsolute, resolve } from 'node:path';
import { lazily, zod } from '@custos/core/internal/lazy-zod';
import type { z } from 'zod';
import { ServerError } from '../errors.js';
import { parseDurationSeconds } from '../lib/duration.js';

/** Where a rotation database's password comes from: never the configuration file itself. */
export type PasswordSource = { readonly env: string } | { readonly file: string };

/** A database `transit-key` rotation policies name (`settings.database`). */
export interface RotationDatabaseConfig {
  /** A SQLite file path (resolved) or a `postgres://user@host:port/db` URL without a password. */
  readonly location: string;
  /** The PostgreSQL password, by the name of an environment variable or a file. */
  readonly password?: PasswordSource;
}

/** The `rotation` section of the configuration file, checked and resolved. */
export interface RotationConfig {
  /** How often the scheduler looks for due rotations, in ms (`0`: never). */
  readonly schedulerIntervalMs?: number;
  /** How long ended approval requests are kept before the scheduler removes them, in ms. */
  readonly approvalRetentionMs?: number;
  /** The databases by name. */
  readonly databases: Readonly<Record<string, RotationDatabaseConfig>>;
  /** Rotator plugin modules (absolute paths), loaded at start in this order. */
  readonly plugins: readonly string[];
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const isPostgres = (location: string) => /^postgres(ql)?:\/\//.test(location);

/** The section's schemas, built at the first parse (lazy-zod.ts). */
const schemas = lazily(() => {
  const z = zod();
  const database = z
    .object({
      url: z.string().min(1).optional(),
      path: z.string().min(1).optional(),
      password_env: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
      password_file: z.string().min(1).optional(),
      password: z.unknown().optional(),
    })
    .strict();

  const rotation = z
    .object({
      scheduler_interval: z.union([z.string(), z.number()]).optional(),
      approval_retention: z.union([z.string(), z.number()]).optional(),
      databases: z.record(z.string(), database).optional(),
      plugins: z.array(z.string().min(1)).max(64).optional(),
    })
    .strict();
  return { database, rotation };
});

type DatabaseInput = z.infer<ReturnType<typeof schemas>['database']>;

const fail = (message: string): never => {
  throw new ServerError('ERR_INVALID_CONFIG', `config: ${message}`);
};

/** The first problem zod found, as `rotation.<path>: <message>`. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return '"rotation" is not valid';
  const path = ['rotation', ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys')
    return `unknown field "${path}.${issue.keys.join('", "')}"`;
  return `"${path}": ${issue.message}`;
}

/** One database: a URL or a path, the password by reference. */
function databaseOf(name: string, raw: DatabaseInput, baseDir: string): RotationDatabaseConfig {
  const at = `rotation.databases.${name}`;
  if (!NAME.test(name))
    fail(`"${at}": a database name is lower-case letters, digits, _ and - (at most 64)`);
  if (raw.password !== undefined)
    fail(
      `"${at}.password": a password is never written in the configuration file; name it with "password_env" (an environment variable) or "password_file"`,
    );
  if ((raw.url === undefined) === (raw.path === undefined))
    fail(`"${at}": give either "url" (postgres://user@host:port/db) or "path" (a SQLite file)`);
  if (raw.password_env !== undefined && raw.password_file !== undefined)
    fail(`"${at}": give "password_env" or "password_file", not both`);
  const password: PasswordSource | undefined =
    raw.password_env !== undefined
      ? { env: raw.password_env }
      : raw.password_file !== undefined
        ? { file: resolve(baseDir, raw.password_file) }
        : undefined;
  if (raw.path !== undefined) {
    if (password !== undefined) fail(`"${at}": a SQLite database takes no password`);
    return { location: resolve(baseDir, raw.path.replace(/^sqlite:/, '')) };
  }
  const url = raw.url as string;
  if (!isPostgres(url)) fail(`"${at}.url" must be a postgres:// URL (a SQLite file is "path")`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail(`"${at}.url" is not a valid URL`);
  }
  if (parsed.password !== '')
    fail(`"${at}.url" must not hold a password; name it with "password_env" or "password_file"`);
  return { location: url, ...(password === undefined ? {} : { password }) };
}

/**
 * Checks the configuration file's `rotation` section: `scheduler_interval` (a duration such as
 * `"60s"`, `0` for never), `databases` (by name: `url` or `path`, the password named by
 * `password_env` or `password_file`, never inlined) and `plugins` (module paths). Relative
 * paths are resolved against `baseDir`. A problem is `ERR_INVALID_CONFIG` naming the field.
 *
 * @example
 * ```ts
 * const rotation = parseRotationConfig(
 *   { scheduler_interval: '30s', databases: { app: { url: 'postgres://rewrap@db/app', password_env: 'APP_DB_PASSWORD' } } },
 *   '/etc/custos',
 * );
 * ```
 */
export function parseRotationConfig(raw: unknown, baseDir: string): RotationConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(
      '"rotation" must be an object: {"scheduler_interval"?, "approval_retention"?, "databases"?, "plugins"?}',
    );
  const checked = schemas().rotation.safeParse(raw);
  if (!checked.success) return fail(firstIssue(checked.error));
  const {
    scheduler_interval: interval,
    approval_retention: retention,
    databases = {},
    plugins = [],
  } = checked.data;
  let schedulerIntervalMs: number | undefined;
  if (interval !== undefined) {
    let seconds = 0;
    try {
      seconds = parseDurationSeconds(interval, 'rotation.scheduler_interval');
    } catch {
      fail('"rotation.scheduler_interval" must be a duration such as "60s" or "5m" (0: never)');
    }
    if (seconds !== 0 && (seconds < 1 || seconds > 86_400))
      fail('"rotation.scheduler_interval" must be between 1s and 24h (0: never)');
    schedulerIntervalMs = seconds * 1000;
  }
  let approvalRetentionMs: number | undefined;
  if (retention !== undefined) {
    let seconds = 0;
    try {
      seconds = parseDurationSeconds(retention, 'rotation.approval_retention');
    } catch {
      fail('"rotation.approval_retention" must be a duration such as "7d" or "24h"');
    }
    if (seconds < 3600 || seconds > 365 * 86_400)
      fail('"rotation.approval_retention" must be between 1h and 365d');
    approvalRetentionMs = seconds * 1000;
  }
  const resolvedPlugins = plugins.map((plugin) =>
    isAbsolute(plugin) ? plugin : resolve(baseDir, plugin),
  );
  if (new Set(resolvedPlugins).size !== resolvedPlugins.length)
    fail('"rotation.plugins" names a module twice');
  return {
    ...(schedulerIntervalMs === undefined ? {} : { schedulerIntervalMs }),
    ...(approvalRetentionMs === undefined ? {} : { approvalRetentionMs }),
    databases: Object.fromEntries(
      Object.entries(databases).map(([name, db]) => [name, databaseOf(name, db, baseDir)]),
    ),
    plugins: resolvedPlugins,
  };
}
