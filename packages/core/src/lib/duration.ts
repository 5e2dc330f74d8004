import { CustosError, type ErrorCode } from '../errors/index.js';

/**
 * Milliseconds per unit. `ms` is allowed so Vault-style values such as `1500ms` parse (floored
 * to whole seconds). Sums are exact (BigInt): `4.35h` is 15660 s, not 15659.999….
 */
const UNIT_MS: Readonly<Record<string, bigint>> = {
  ms: 1n,
  s: 1_000n,
  m: 60_000n,
  h: 3_600_000n,
  d: 86_400_000n,
  w: 604_800_000n,
};

/** One or more `<number><unit>` parts, `ms` before `m` so `1500ms` is not read as minutes. */
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+)(?:\.(\d+))?(ms|s|m|h|d|w)/g;
const SECONDS = /^\d+$/;

/** Options of {@link parseDurationSeconds}. */
export interface ParseDurationOptions {
  /**
   * The code of the error thrown for a value that is not a duration: `ERR_INVALID_ARGUMENT`
   * (default) for library and CLI input, `ERR_INVALID_REQUEST` for a server request parameter.
   */
  readonly errorCode?: Extract<ErrorCode, 'ERR_INVALID_ARGUMENT' | 'ERR_INVALID_REQUEST'>;
}

/**
 * Parses a duration into whole seconds (fractions are floored), with the one grammar every part
 * of custos accepts — Vault's, plus days and weeks:
 *
 * - a whole number of seconds, as a number (`300`) or a string (`"300"`);
 * - one or more `<number><unit>` parts, units `ms`, `s`, `m`, `h`, `d` (24 h) and `w` (7 d), a
 *   part's number possibly decimal: `"90s"`, `"15m"`, `"1h30m"`, `"1.5h"`, `"768h"`, `"7d"`,
 *   `"2w"`, `"1500ms"` (1 s).
 *
 * Surrounding spaces are ignored; anything else — an empty string, a sign, spaces inside, a
 * unit on its own, a bare decimal (`"1.5"`), more seconds than a safe integer holds — is
 * refused with an error naming `what` (never echoing the value).
 *
 * @example
 * ```ts
 * parseDurationSeconds('1h30m');            // 5400
 * parseDurationSeconds('2w', '--grace');    // 1209600
 * parseDurationSeconds(300, 'ttl');         // 300
 * parseDurationSeconds('soon', 'ttl', { errorCode: 'ERR_INVALID_REQUEST' }); // throws
 * ```
 */
export function parseDurationSeconds(
  value: unknown,
  what = 'duration',
  options: ParseDurationOptions = {},
): number {
  const seconds = secondsOf(value);
  if (seconds === undefined || !Number.isSafeInteger(seconds)) {
    throw new CustosError(
      options.errorCode ?? 'ERR_INVALID_ARGUMENT',
      `${what} must be a whole number of seconds or a duration such as 90s, 15m, 1h30m, 48h, 7d or 2w`,
    );
  }
  return seconds;
}

function secondsOf(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (SECONDS.test(text)) return Number(text);
  if (!DURATION.test(text)) return undefined;
  let ms = 0n;
  for (const [, whole, fraction = '', unit] of text.matchAll(PART)) {
    const perUnit = UNIT_MS[unit as string] as bigint;
    ms += BigInt(whole as string) * perUnit;
    if (fraction !== '') ms += (BigInt(fraction) * perUnit) / 10n ** BigInt(fraction.length);
  }
  const seconds = ms / 1_000n;
  return seconds > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(seconds);
}

/**
 * Formats whole seconds as Vault prints durations in responses (`"0s"`, `"1m30s"`,
 * `"1h30m0s"`, `"768h0m0s"`: hours are not folded into days). The result parses back with
 * {@link parseDurationSeconds}.
 *
 * @example
 * ```ts
 * formatDuration(5400); // "1h30m0s"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
