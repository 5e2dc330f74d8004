import { CustosError } from '@custos/core/errors';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Parses a TTL as Vault accepts it: an integer number of seconds (number or string) or a
 * Go-style duration such as `"90s"`, `"15m"`, `"1h30m"`, `"768h"`. Returns whole seconds.
 * `field` names the parameter in the error.
 *
 * @example
 * ```ts
 * parseDurationSeconds('1h30m', 'ttl'); // 5400
 * ```
 */
export function parseDurationSeconds(value: unknown, field: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+$/.test(text)) return Number(text);
    if (DURATION.test(text)) {
      let seconds = 0;
      for (const [, amount, unit] of text.matchAll(PART)) {
        seconds +=
          unit === 'ms'
            ? Number(amount) / 1000
            : Number(amount) * (UNIT_SECONDS[unit as string] as number);
      }
      return Math.floor(seconds);
    }
  }
  throw new CustosError(
    'ERR_INVALID_REQUEST',
    `${field} must be a number of seconds or a duration such as "30m" or "1h30m"`,
  );
}

/** Formats seconds as Vault prints durations in responses (`"0s"`, `"1h30m0s"`). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
