import type { RotationPolicy } from '../rotation/rotation-policy.js';
import { nextDue, parseSchedule, type Schedule } from '../rotation/rotation-schedule.js';
import { invalidParameter } from './aws-error.js';
import { optionalInt, optionalString } from './aws-fields.js';
import type { SecretsManagerSite } from './secret-id.js';

/**
 * The `RotationLambdaARN` that names a custos rotator: custos runs no Lambda functions, so the
 * function name `custos-<rotator>` stands for the rotator of that name (docs/aws.md), e.g.
 * `arn:aws:lambda:us-east-1:000000000000:function:custos-random`.
 */
const ROTATOR_ARN = /^arn:aws:lambda:([^:]*):([^:]*):function:custos-([a-z0-9][a-z0-9-]{0,63})$/;

/**
 * The rotator a `RotationLambdaARN` names: the ARN form above, with this server's region and
 * account. Any other ARN is refused (InvalidParameterException): it names a Lambda function
 * this server cannot run.
 *
 * @example
 * ```ts
 * rotatorOfArn(site, 'arn:aws:lambda:us-east-1:000000000000:function:custos-random'); // 'random'
 * ```
 */
export function rotatorOfArn(site: SecretsManagerSite, value: unknown): string {
  const arn = optionalString(value, 'RotationLambdaARN', 2048, 1) ?? '';
  const match = ROTATOR_ARN.exec(arn);
  if (match === null || match[1] !== site.region || match[2] !== site.accountId)
    throw invalidParameter(
      `custos runs no Lambda functions: RotationLambdaARN must name a custos rotator, arn:aws:lambda:${site.region}:${site.accountId}:function:custos-<rotator> (such as custos-random)`,
    );
  return match[3] as string;
}

/** The `RotationLambdaARN` a secret rotated by `rotator` is described with. */
export const arnOfRotator = (site: SecretsManagerSite, rotator: string): string =>
  `arn:aws:lambda:${site.region}:${site.accountId}:function:custos-${rotator}`;

/** What `RotationRules` set: the schedule and, for a cron schedule, its window (seconds). */
export interface RulesSchedule {
  readonly schedule: Schedule;
  readonly window?: number;
}

const HOUR = 3600;
const DAY = 86_400;

/** `rate(N hours)` (N ≥ 4) or `rate(N days)` (1–1000), as an interval. */
function rateOf(expression: string): Schedule | undefined {
  const rate = /^rate\((\d{1,5}) (hour|hours|day|days)\)$/.exec(expression);
  if (rate === null) return undefined;
  const n = Number(rate[1]);
  const hours = rate[2]?.startsWith('hour') === true;
  if (hours ? n < 4 || n > 24_000 : n < 1 || n > 1000)
    throw invalidParameter(
      'ScheduleExpression: rate() takes 4 or more hours, or 1 to 1000 days (rate(4 hours), rate(10 days))',
    );
  return { kind: 'interval', seconds: n * (hours ? HOUR : DAY) };
}

/** Moves each day-of-week number of a cron field by `delta` (AWS counts 1–7 from Sunday). */
function shiftWeekdays(field: string, delta: number, low: number, high: number): string {
  return field.replace(/(^|[,-])(\d+)/g, (_all, before: string, digits: string) => {
    const n = Number(digits);
    if (n < low || n > high)
      throw invalidParameter(`ScheduleExpression: a day of the week is ${low} to ${high}`);
    return `${before}${n === 7 && delta > 0 ? 1 : n + delta}`;
  });
}

/**
 * AWS's `cron(minutes hours day-of-month month day-of-week year)` as the five-field cron the
 * rotation engine reads (UTC): `?` is `*`, AWS's days of the week 1–7 (Sunday first) are 0–6,
 * and the year must be `*`.
 */
function cronOf(expression: string): Schedule | undefined {
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron === null) return undefined;
  const fields = (cron[1] as string).trim().split(/\s+/);
  if (fields.length !== 6)
    throw invalidParameter(
      'ScheduleExpression: cron() has six fields (minutes hours day-of-month month day-of-week year)',
    );
  const [minutes, hours, dom, month, dow, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (year !== '*') throw invalidParameter('ScheduleExpression: the year of cron() must be *');
  if ((dom === '?') === (dow === '?'))
    throw invalidParameter(
      'ScheduleExpression: cron() takes ? in exactly one of day-of-month and day-of-week',
    );
  const weekday = dow === '?' ? '*' : shiftWeekdays(dow, -1, 1, 7);
  const text = [minutes, hours, dom === '?' ? '*' : dom, month, weekday].join(' ');
  try {
    return parseSchedule(text);
  } catch {
    throw invalidParameter('ScheduleExpression is not a valid cron() expression');
  }
}

/**
 * Reads `RotationRules`: `AutomaticallyAfterDays` (1–1000) or `ScheduleExpression` (`rate()` or
 * `cron()`), not both; `Duration` (`1h`–`24h`) is the window a cron schedule may start in (an
 * interval rotates whenever it is due, so a Duration there is refused rather than ignored).
 * Refusals name the member, never echo it.
 *
 * @example
 * ```ts
 * scheduleOfRules({ ScheduleExpression: 'cron(0 3 ? * 1 *)', Duration: '2h' });
 * // { schedule: { kind: 'cron', expression: '0 3 * * 0' }, window: 7200 }
 * ```
 */
export function scheduleOfRules(value: unknown): RulesSchedule {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidParameter('RotationRules must be an object');
  const rules = value as Record<string, unknown>;
  const days = optionalInt(rules.AutomaticallyAfterDays, 'AutomaticallyAfterDays', 1, 1000);
  const expression = optionalString(rules.ScheduleExpression, 'ScheduleExpression', 256, 1);
  const duration = optionalString(rules.Duration, 'Duration', 3, 2);
  if ((days === undefined) === (expression === undefined))
    throw invalidParameter(
      'RotationRules takes either AutomaticallyAfterDays or ScheduleExpression',
    );
  const schedule: Schedule =
    days !== undefined
      ? { kind: 'interval', seconds: days * DAY }
      : (rateOf((expression as string).trim()) ??
        cronOf((expression as string).trim()) ??
        (() => {
          throw invalidParameter('ScheduleExpression must be rate(…) or cron(…)');
        })());
  if (duration === undefined) return { schedule };
  const hours = /^(\d{1,2})h$/.exec(duration);
  if (hours === null || Number(hours[1]) < 1 || Number(hours[1]) > 24)
    throw invalidParameter('Duration must be 1h to 24h');
  if (schedule.kind !== 'cron')
    throw invalidParameter(
      'Duration applies to a cron() ScheduleExpression here: an interval rotates as soon as it is due',
    );
  return { schedule, window: Number(hours[1]) * HOUR };
}

/**
 * How long a replaced value keeps `AWSPREVIOUS` when the policy is new: one period of the
 * schedule, so it stays until about the next rotation, as in AWS.
 */
export function periodOf(schedule: Schedule, nowMs: number): number {
  if (schedule.kind === 'interval') return schedule.seconds;
  const first = nextDue(schedule, nowMs);
  return Math.round((nextDue(schedule, first) - first) / 1000);
}

/**
 * A policy's schedule as DescribeSecret's `RotationRules`: whole days as
 * `AutomaticallyAfterDays` (and `rate(N days)`), hours as `rate(N hours)`, cron as AWS's
 * six-field `cron()`, a cron window as `Duration` (whole hours, rounded up).
 */
export function rulesOfPolicy(policy: RotationPolicy): Record<string, unknown> {
  const { schedule } = policy;
  if (schedule.kind === 'interval') {
    if (schedule.seconds % DAY === 0) {
      const days = schedule.seconds / DAY;
      return { AutomaticallyAfterDays: days, ScheduleExpression: `rate(${days} days)` };
    }
    return { ScheduleExpression: `rate(${Math.ceil(schedule.seconds / HOUR)} hours)` };
  }
  const [minutes, hours, dom, month, dow] = schedule.expression.split(' ') as [
    string,
    string,
    string,
    string,
    string,
  ];
  const weekday = dow === '*' ? '?' : shiftWeekdays(dow, 1, 0, 7);
  const day = dow !== '*' && dom === '*' ? '?' : dom;
  return {
    ScheduleExpression: `cron(${[minutes, hours, day, month, weekday, '*'].join(' ')})`,
    ...(policy.window === undefined || policy.window === 0
      ? {}
      : { Duration: `${Math.ceil(policy.window / HOUR)}h` }),
  };
}
