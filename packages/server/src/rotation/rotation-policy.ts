import { CustosError } from '@custos/core/errors';
import { formatDuration, parseDurationSeconds } from '../lib/duration.js';
import { formatSchedule, parseSchedule, type Schedule } from './rotation-schedule.js';

/**
 * A secret's rotation policy, as stored (behind the barrier) and served at
 * `sys/rotation/:mount/:path`.
 */
export interface RotationPolicy {
  /** The secret type whose defaults filled the fields not given (seed 001's table), if any. */
  readonly type?: SecretType;
  /** The rotator's name (`random`, `redis-acl`, … or a registered custom one). */
  readonly rotator: string;
  readonly schedule: Schedule;
  /** Cron schedules only: how long after a due time a rotation may still start (seconds). */
  readonly window?: number;
  /** How long the replaced value keeps working after a rotation (seconds). */
  readonly grace_period: number;
  /** Whether the scheduler rotates it; manual policies rotate only when asked (`--force`). */
  readonly automatic: boolean;
  /** How long before it is due the scheduler announces it (seconds; 0 = no notice). */
  readonly notify_before: number;
  /** The rotator's own settings (checked by the rotator; never a secret value). */
  readonly settings: Readonly<Record<string, unknown>>;
  /**
   * Two-person approval: a rotation asked for by a request (not the scheduler's) waits until
   * this many other identities approve it. Absent or 0: none.
   */
  readonly approvals?: number;
  /** How long (seconds) a rotation request may wait for its approvals. */
  readonly approval_ttl?: number;
  /** When the policy was written (ISO): a never-rotated secret is due one schedule after it. */
  readonly created_time: string;
  /**
   * The uuid of the mount the secret was on when the policy was written. The engine refuses
   * the name once it resolves to another mount (the mount disabled or moved, and another one
   * enabled where the name now resolves): the policy's rotator and settings were judged for
   * that mount's secret, never another's. Absent in policies written before it was recorded.
   */
  readonly mount_uuid?: string;
}

/** The secret types of seed 001's rotation table. */
export type SecretType = keyof typeof SECRET_TYPE_DEFAULTS;

const DAY = 86_400;
const HOUR = 3600;

/**
 * Defaults per secret type, from seed 001's table: interval, grace period, automatic or not,
 * and the rotator that fits.
 */
export const SECRET_TYPE_DEFAULTS = {
  jwt_signing_key: { rotator: 'jwt-keyset', every: 90 * DAY, grace: 24 * HOUR, automatic: true },
  database_password: {
    rotator: 'postgres-password',
    every: 180 * DAY,
    grace: 0,
    automatic: false,
  },
  api_key: { rotator: 'random', every: 90 * DAY, grace: 48 * HOUR, automatic: true },
  encryption_key: { rotator: 'transit-key', every: 365 * DAY, grace: 0, automatic: false },
  redis_password: { rotator: 'redis-acl', every: 90 * DAY, grace: HOUR, automatic: true },
  webhook_secret: { rotator: 'random', every: 180 * DAY, grace: 72 * HOUR, automatic: true },
  s3_access_key: { rotator: 'webhook', every: 90 * DAY, grace: 24 * HOUR, automatic: true },
  s3_secret_key: { rotator: 'webhook', every: 90 * DAY, grace: 24 * HOUR, automatic: true },
} as const;

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** How long a rotation request waits for its approvals unless the policy says (24 h). */
export const DEFAULT_APPROVAL_TTL = 86_400;

/** The fields of a policy write, as the route reads them. */
export interface PolicyInput {
  readonly type?: string | undefined;
  readonly rotator?: string | undefined;
  readonly schedule?: unknown;
  readonly window?: number | undefined;
  readonly grace_period?: number | undefined;
  readonly automatic?: boolean | undefined;
  readonly notify_before?: number | undefined;
  readonly settings?: unknown;
  readonly approvals?: number | undefined;
  readonly approval_ttl?: number | undefined;
}

/**
 * A policy from a write: the fields given, the rest from the secret type's defaults (`type`).
 * `rotator` and `schedule` are required when no type gives them. Refusals name the field.
 *
 * @example
 * ```ts
 * policyOf({ type: 'api_key' }, now); // random, every 90 days, 48 h grace, automatic
 * ```
 */
export function policyOf(input: PolicyInput, nowIso: string): RotationPolicy {
  let defaults: (typeof SECRET_TYPE_DEFAULTS)[SecretType] | undefined;
  if (input.type !== undefined) {
    if (!Object.hasOwn(SECRET_TYPE_DEFAULTS, input.type))
      throw invalid(`type must be one of ${Object.keys(SECRET_TYPE_DEFAULTS).join(', ')}`);
    defaults = SECRET_TYPE_DEFAULTS[input.type as SecretType];
  }
  const rotator = input.rotator ?? defaults?.rotator;
  if (rotator === undefined || rotator === '') throw invalid('rotator is required');
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(rotator))
    throw invalid('rotator must be a name of lower-case letters, digits and -');
  const schedule =
    input.schedule !== undefined
      ? parseSchedule(input.schedule)
      : defaults !== undefined
        ? ({ kind: 'interval', seconds: defaults.every } as const)
        : undefined;
  if (schedule === undefined) throw invalid('schedule is required');
  if (input.window !== undefined && schedule.kind !== 'cron')
    throw invalid('window applies to a cron schedule only');
  const settings = input.settings ?? {};
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    throw invalid('settings must be an object');
  const grace = input.grace_period ?? defaults?.grace ?? 0;
  const notify = input.notify_before ?? 0;
  const approvals = input.approvals ?? 0;
  if (!Number.isInteger(approvals) || approvals < 0 || approvals > 5)
    throw invalid('approvals must be an integer from 0 to 5');
  if (input.approval_ttl !== undefined && approvals === 0)
    throw invalid('approval_ttl applies only with approvals');
  const approvalTtl = input.approval_ttl ?? DEFAULT_APPROVAL_TTL;
  if (approvals > 0 && (approvalTtl < 60 || approvalTtl > 7 * 86_400))
    throw invalid('approval_ttl must be between 1m and 7d');
  return {
    ...(input.type === undefined ? {} : { type: input.type as SecretType }),
    rotator,
    schedule,
    ...(input.window === undefined ? {} : { window: input.window }),
    grace_period: grace,
    automatic: input.automatic ?? defaults?.automatic ?? true,
    notify_before: notify,
    settings: settings as Record<string, unknown>,
    ...(approvals === 0 ? {} : { approvals, approval_ttl: approvalTtl }),
    created_time: nowIso,
  };
}

/** A duration field of a policy body, in seconds (`"24h"`, `3600`). */
export function policyDuration(value: unknown, field: string): number | undefined {
  return value === undefined ? undefined : parseDurationSeconds(value, field);
}

/** The policy as the API returns it (durations as Vault prints them). */
export function policyResponse(policy: RotationPolicy): Record<string, unknown> {
  return {
    ...(policy.type === undefined ? {} : { type: policy.type }),
    rotator: policy.rotator,
    schedule: formatSchedule(policy.schedule),
    schedule_kind: policy.schedule.kind,
    ...(policy.window === undefined ? {} : { window: formatDuration(policy.window) }),
    grace_period: formatDuration(policy.grace_period),
    automatic: policy.automatic,
    notify_before: formatDuration(policy.notify_before),
    settings: policy.settings,
    approvals: policy.approvals ?? 0,
    ...(policy.approval_ttl === undefined
      ? {}
      : { approval_ttl: formatDuration(policy.approval_ttl) }),
    created_time: policy.created_time,
  };
}
