import { CustosError } from '../errors/index.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION = /^(\d+)\s*([smhdw]?)$/;

/**
 * Parses a duration such as `90s`, `15m`, `48h`, `7d`, `2w` or a bare number of seconds into
 * whole seconds.
 *
 * @example
 * ```ts
 * parseDurationSeconds('48h'); // 172800
 * ```
 */
export function parseDurationSeconds(text: string, what = 'duration'): number {
  const match = DURATION.exec(text.trim());
  const seconds = match ? Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] as number) : Number.NaN;
  if (!Number.isSafeInteger(seconds)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${what} must be a whole number of seconds or end in s, m, h, d or w (e.g. 48h)`,
    );
  }
  return seconds;
}

/** Checks a non-negative whole number of seconds, naming the option when it is not. */
export function checkSeconds(value: number, what: string, { min = 0 } = {}): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} must be a whole number ≥ ${min}`);
  }
  return value;
}
