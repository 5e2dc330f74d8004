import { describe, expect, it } from 'vitest';
import {
  DEFAULT_APPROVAL_TTL,
  type PolicyInput,
  policyDuration,
  policyOf,
  policyResponse,
  SECRET_TYPE_DEFAULTS,
} from './rotation-policy.js';

const now = '2026-01-01T00:00:00.000Z';
const base = { rotator: 'random', schedule: '90d' } as const;

/** The refusal a policy write gets, as code and message (undefined when it is accepted). */
function refusal(input: PolicyInput): { code: string; message: string } | undefined {
  try {
    policyOf(input, now);
    return undefined;
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
}

const refused = (message: string) => ({ code: 'ERR_INVALID_REQUEST', message });

describe('policyOf: what a rotation policy write is read as', () => {
  it('names every secret type, comma-separated, when the type is unknown', () => {
    expect(refusal({ type: 'ssh_key' })).toEqual(
      refused(`type must be one of ${Object.keys(SECRET_TYPE_DEFAULTS).join(', ')}`),
    );
    expect(refusal({ type: 'toString' })?.message).toMatch(
      /^type must be one of jwt_signing_key, /,
    );
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
  ])('refuses a rotator that is %s as required, not as badly named', (_, rotator) => {
    expect(refusal({ schedule: '90d', rotator })).toEqual(refused('rotator is required'));
  });

  it.each([
    'Random', // upper case
    '-random', // starts with '-'
    'random!', // ends outside the alphabet
    'ran dom',
    'random\n',
    'a'.repeat(65), // one too long
  ])('refuses the rotator name %j and says what a name is', (rotator) => {
    expect(refusal({ schedule: '90d', rotator })).toEqual(
      refused('rotator must be a name of lower-case letters, digits and -'),
    );
  });

  it.each(['random', '0', 'redis-acl', 'a'.repeat(64), 'x-'])(
    'accepts the rotator name %j',
    (rotator) => {
      expect(policyOf({ schedule: '90d', rotator }, now).rotator).toBe(rotator);
    },
  );

  it.each([
    ['a string', 'ttl=1'],
    ['a number', 3],
    ['a boolean', true],
    ['an array', []],
  ])('refuses settings that are %s', (_, settings) => {
    expect(refusal({ ...base, settings })).toEqual(refused('settings must be an object'));
  });

  it('reads absent or null settings as none', () => {
    expect(policyOf(base, now).settings).toEqual({});
    expect(policyOf({ ...base, settings: null }, now).settings).toEqual({});
    expect(policyOf({ ...base, settings: { length: 40 } }, now).settings).toEqual({ length: 40 });
  });

  it.each([-1, 6, 1.5, Number.NaN, -0.5])('refuses %d approvals', (approvals) => {
    expect(refusal({ ...base, approvals })).toEqual(
      refused('approvals must be an integer from 0 to 5'),
    );
  });

  it.each([0, 1, 5])('accepts %d approvals', (approvals) => {
    expect(refusal({ ...base, approvals })).toBeUndefined();
  });

  it('refuses an approval_ttl without approvals', () => {
    expect(refusal({ ...base, approval_ttl: 600 })).toEqual(
      refused('approval_ttl applies only with approvals'),
    );
  });

  it.each([
    [59, false],
    [60, true],
    [7 * 86_400, true],
    [7 * 86_400 + 1, false],
  ])('with approvals, an approval_ttl of %d s is accepted: %s', (approval_ttl, accepted) => {
    expect(refusal({ ...base, approvals: 2, approval_ttl })).toEqual(
      accepted ? undefined : refused('approval_ttl must be between 1m and 7d'),
    );
  });

  it('writes exactly the fields given or defaulted, nothing undefined', () => {
    expect(policyOf(base, now)).toStrictEqual({
      rotator: 'random',
      schedule: { kind: 'interval', seconds: 90 * 86_400 },
      grace_period: 0,
      automatic: true,
      notify_before: 0,
      settings: {},
      created_time: now,
    });
    expect(
      policyOf({ type: 'redis_password', approvals: 2, schedule: '0 3 * * 0', window: 600 }, now),
    ).toStrictEqual({
      type: 'redis_password',
      rotator: 'redis-acl',
      schedule: { kind: 'cron', expression: '0 3 * * 0' },
      window: 600,
      grace_period: 3600,
      automatic: true,
      notify_before: 0,
      settings: {},
      approvals: 2,
      approval_ttl: DEFAULT_APPROVAL_TTL,
      created_time: now,
    });
  });

  it('keeps approvals and their ttl only when approvals are asked for', () => {
    const none = policyOf({ ...base, approvals: 0 }, now);
    expect(Object.hasOwn(none, 'approvals')).toBe(false);
    expect(Object.hasOwn(none, 'approval_ttl')).toBe(false);
    expect(policyOf({ ...base, approvals: 1, approval_ttl: 120 }, now)).toMatchObject({
      approvals: 1,
      approval_ttl: 120,
    });
  });

  it('refuses a window on an interval schedule and a policy with no schedule', () => {
    expect(refusal({ ...base, window: 60 })).toEqual(
      refused('window applies to a cron schedule only'),
    );
    expect(refusal({ rotator: 'random' })).toEqual(refused('schedule is required'));
  });
});

describe('policyResponse: a policy as the API returns it', () => {
  it('prints durations as Vault does and carries no field the policy does not have', () => {
    expect(policyResponse(policyOf(base, now))).toStrictEqual({
      rotator: 'random',
      schedule: '2160h0m0s',
      schedule_kind: 'interval',
      grace_period: '0s',
      automatic: true,
      notify_before: '0s',
      settings: {},
      approvals: 0,
      created_time: now,
    });
    const typed = { type: 'redis_password', approvals: 2, schedule: '0 3 * * 0', window: 600 };
    expect(policyResponse(policyOf(typed, now))).toStrictEqual({
      type: 'redis_password',
      rotator: 'redis-acl',
      schedule: '0 3 * * 0',
      schedule_kind: 'cron',
      window: '10m0s',
      grace_period: '1h0m0s',
      automatic: true,
      notify_before: '0s',
      settings: {},
      approvals: 2,
      approval_ttl: '24h0m0s',
      created_time: now,
    });
  });
});

describe('policyDuration', () => {
  it('reads a duration field in seconds and leaves an absent one absent', () => {
    expect(policyDuration(undefined, 'grace_period')).toBeUndefined();
    expect(policyDuration('24h', 'grace_period')).toBe(86_400);
    expect(policyDuration(90, 'grace_period')).toBe(90);
  });

  it('refuses a value that is not a duration, naming the field', () => {
    expect(() => policyDuration('soon', 'grace_period')).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_REQUEST',
        message: expect.stringContaining('grace_period'),
      }),
    );
  });
});
