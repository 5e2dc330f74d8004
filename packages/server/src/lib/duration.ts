import { formatDuration, parseDurationSeconds as parseDuration } from '@custos/core/duration';

/**
 * Reads a duration request parameter (`ttl`, `token_ttl`, `delete_version_after`, …) with the
 * library's one grammar (`300`, `"90s"`, `"1h30m"`, `"7d"`, `"2w"`; see `@custos/core/duration`);
 * a value that is not one is an invalid request (400) naming `field`.
 *
 * @example
 * ```ts
 * parseDurationSeconds('1h30m', 'ttl'); // 5400
 * ```
 */
export function parseDurationSeconds(value: unknown, field: string): number {
  return parseDuration(value, field, { errorCode: 'ERR_INVALID_REQUEST' });
}

export { formatDuration };
