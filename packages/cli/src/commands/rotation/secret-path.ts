import { CustosError } from '@custos/core/errors';

/**
 * A `<mount>/<path>` argument as the API path's tail, each segment URL-encoded (a `#`, `?` or
 * `%` in a name stays part of the name). Empty, `.` and `..` segments are refused: a command
 * names exactly one secret.
 *
 * @example
 * ```ts
 * secretPath('secret/app/db'); // 'secret/app/db'
 * ```
 */
export function secretPath(secret: string): string {
  const segments = secret.replace(/^\/+/, '').split('/');
  if (segments.length < 2 || segments.some((s) => s === '' || s === '.' || s === '..'))
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `not a secret: ${JSON.stringify(secret.slice(0, 200))} (expected <mount>/<path>, e.g. secret/app/db)`,
    );
  return segments.map(encodeURIComponent).join('/');
}
