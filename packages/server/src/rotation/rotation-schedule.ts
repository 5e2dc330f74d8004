import { createRequire } from 'node:module';
import { CustosError } from '@custos/core/errors';
import type { CronExpressionParser as Parser } from 'cron-parser';
import { formatDuration, parseDurationSeconds } from '../lib/duration.js';

let parser: typeof Parser | undefined;
/**
 * `cron-parser`, loaded at the first cron schedule: it brings Luxon (over a megabyte of heap),
 * which a server with no cron schedule never needs (issue #16: idle memory).
 */
function cronParser(): typeof Parser {
  parser ??= (
    createRequire(import.meta.url)('cron-parser') as { CronExpressionParser: typeof Parser }
  ).CronExpressionParser;
  return parser;
}

/** The shortest interval a schedule may have: 4 hours, as AWS Secrets Manager allows. */
export const MIN_INTERVAL_SECONDS = 4 * 3600;

/** When a secret is due: every `interval`, or at each time a cron expression names (UTC). */
export type Schedule =
  | { readonly kind: 'interval'; readonly seconds: number }
  | { readonly kind: 'cron'; readonly expression: string };

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * Reads a schedule: a duration (`90d`, `12h`, at least 4 h) or a five-field cron expression
 * (`0 3 * * 0`, read in UTC by `cron-parser`). Refusals name the field, never echo it.
 *
 * @example
 * ```ts
 * parseSchedule('90d'); // { kind: 'interval', seconds: 7776000 }
 * parseSchedule('0 3 * * 0'); // { kind: 'cron', expression: '0 3 * * 0' }
 * ```
 */
export function parseSchedule(value: unknown): Schedule {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalid('schedule must be a duration such as "90d" or a cron expression');
  const text = value.trim();
  if (!text.includes(' ')) {
    const seconds = parseDurationSeconds(text, 'schedule');
    if (seconds < MIN_INTERVAL_SECONDS)
      throw invalid('schedule must be at least 4h (or a cron expression)');
    return { kind: 'interval', seconds };
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5)
    throw invalid('schedule: a cron expression has five fields (minute hour day month weekday)');
  try {
    cronParser().parse(text, { tz: 'UTC' });
  } catch {
    throw invalid('schedule is neither a duration nor a valid cron expression');
  }
  return { kind: 'cron', expression: fields.join(' ') };
}

/** The schedule as written back (`90d` as Vault prints durations, `2160h0m0s`; cron as given). */
export function formatSchedule(schedule: Schedule): string {
  return schedule.kind === 'interval' ? formatDuration(schedule.seconds) : schedule.expression;
}

/**
 * When a secret last rotated at `lastMs` (or, never rotated, whose policy was written at
 * `sinceMs`) is next due, in Unix milliseconds. An interval counts from the last rotation; a
 * cron schedule is due at its first time after it.
 *
 * @example
 * ```ts
 * nextDue({ kind: 'interval', seconds: 3600 * 24 }, Date.parse('2026-01-01T00:00:00Z'));
 * // Date.parse('2026-01-02T00:00:00Z')
 * ```
 */
export function nextDue(schedule: Schedule, fromMs: number): number {
  if (schedule.kind === 'interval') return fromMs + schedule.seconds * 1000;
  const expression = cronParser().parse(schedule.expression, {
    currentDate: new Date(fromMs),
    tz: 'UTC',
  });
  return expression.next().getTime();
}

/**
 * Whether a rotation due at `dueMs` may still start at `nowMs`: always for an interval; for a
 * cron schedule with a `window` (seconds), only within that window after the due time (a
 * missed window waits for the next one).
 */
export function withinWindow(
  schedule: Schedule,
  windowSeconds: number | undefined,
  dueMs: number,
  nowMs: number,
): boolean {
  if (nowMs < dueMs) return false;
  if (schedule.kind === 'interval' || windowSeconds === undefined || windowSeconds === 0)
    return true;
  return nowMs < dueMs + windowSeconds * 1000;
}
