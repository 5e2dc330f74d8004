import { ServerError } from '../errors.js';

/** Socket errors of a connection to storage that is down, restarting or unreachable. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs that say the server is not there for us (class 08: connection
 * exception; 57P01–57P03: shutdown, crash, starting up; 57014: a query cancelled by
 * `statement_timeout`; 53300: too many connections).
 */
function unavailableSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '57014' ||
    code === '53300'
  );
}

/** Messages node-postgres gives its own connection failures (they carry no code). */
const PG_CLIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Connection terminated unexpectedly',
];

/**
 * Whether `err` says storage could not be reached or did not answer in time (as opposed to a
 * query the server got wrong). Those requests fail with {@link storageUnavailable} (HTTP 503).
 *
 * @example
 * ```ts
 * if (isStorageUnavailable(err)) throw storageUnavailable();
 * ```
 */
export function isStorageUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && unavailableSqlState(code)) return true;
  }
  if (typeof message === 'string' && PG_CLIENT_MESSAGES.some((m) => message.startsWith(m)))
    return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isStorageUnavailable(cause);
}

/**
 * The typed error a request gets when storage is unavailable: a fixed message (the driver's
 * error, which can name hosts, stays in the server log).
 *
 * @example
 * ```ts
 * throw storageUnavailable();
 * ```
 */
export function storageUnavailable(): ServerError {
  return new ServerError(
    'ERR_STORAGE_UNAVAILABLE',
    'storage unavailable: PostgreSQL did not answer; retry later (see the server log)',
  );
}
